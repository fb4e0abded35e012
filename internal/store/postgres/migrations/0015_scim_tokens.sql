-- SCIM bearer tokens (store.SCIMToken): the keyed hash of each token an
-- administrator issued for an identity provider's SCIM client, with its
-- expiry and last recorded use.

CREATE TABLE scim_tokens (
	id           TEXT COLLATE "C" PRIMARY KEY,
	hash         TEXT COLLATE "C" NOT NULL UNIQUE,
	description  TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL,
	created_by   TEXT NOT NULL
);
CREATE INDEX scim_tokens_expires ON scim_tokens (expires_at);
