-- SCIM bearer tokens (store.SCIMToken): the keyed hash of each token an
-- administrator issued for an identity provider's SCIM client, with its
-- expiry and last recorded use.

CREATE TABLE scim_tokens (
	id           TEXT PRIMARY KEY,
	hash         TEXT NOT NULL UNIQUE,
	description  TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL,
	created_by   TEXT NOT NULL
);
CREATE INDEX scim_tokens_expires ON scim_tokens (expires_at);
