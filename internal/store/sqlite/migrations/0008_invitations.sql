-- Invitations and e-mail (store.LinkToken, store.OutboxMessage): the keyed
-- hashes of single-use links (invitation, password reset, first-admin
-- setup), at most one per (kind, user), and the outbox of e-mail kept for
-- administrators.

CREATE TABLE link_tokens (
	hash       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	UNIQUE (kind, user_id)
);
CREATE INDEX link_tokens_user ON link_tokens (user_id);

CREATE TABLE outbox (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	recipient  TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
