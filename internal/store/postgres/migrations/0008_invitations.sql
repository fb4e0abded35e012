-- Invitations and e-mail (store.LinkToken, store.OutboxMessage): the keyed
-- hashes of single-use links (invitation, password reset, first-admin
-- setup), at most one per (kind, user), and the outbox of e-mail kept for
-- administrators.

CREATE TABLE link_tokens (
	hash       TEXT COLLATE "C" PRIMARY KEY,
	kind       TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	UNIQUE (kind, user_id)
);
CREATE INDEX link_tokens_user ON link_tokens (user_id);

CREATE TABLE outbox (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         TEXT COLLATE "C" NOT NULL UNIQUE,
	recipient  TEXT COLLATE "C" NOT NULL,
	subject    TEXT COLLATE "C" NOT NULL,
	body       TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL
);
