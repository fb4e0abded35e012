-- Instance settings an administrator changes at run time (store.Settings):
-- one row, absent until first stored (the readers then use the defaults).
CREATE TABLE settings (
	id                        INTEGER PRIMARY KEY CHECK (id = 1),
	mfa_policy                TEXT NOT NULL,
	portal_session_duration   INTEGER NOT NULL,
	updated_at                INTEGER NOT NULL,
	updated_by                TEXT NOT NULL
);
