-- Instance settings an administrator changes at run time (store.Settings):
-- one row, absent until first stored (the readers then use the defaults).
CREATE TABLE settings (
	id                        INTEGER PRIMARY KEY CHECK (id = 1),
	mfa_policy                TEXT COLLATE "C" NOT NULL,
	portal_session_duration   BIGINT NOT NULL,
	updated_at                BIGINT NOT NULL,
	updated_by                TEXT COLLATE "C" NOT NULL
);
