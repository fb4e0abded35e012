-- Automation access (store.IAMUser, store.AccessKey, store.OIDCProvider):
-- IAM users with their policies, their long-lived access keys (secrets
-- sealed under the master key) and the OpenID Connect issuers whose tokens
-- AssumeRoleWithWebIdentity accepts.

CREATE TABLE iam_users (
	id               TEXT PRIMARY KEY,
	account_id       TEXT NOT NULL,
	user_name        TEXT NOT NULL,
	name_key         TEXT NOT NULL,
	path             TEXT NOT NULL,
	tags             TEXT NOT NULL,
	managed_policies TEXT NOT NULL,
	inline_policies  TEXT NOT NULL,
	version          INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	UNIQUE (account_id, name_key)
);

CREATE TABLE access_keys (
	id                TEXT PRIMARY KEY,
	user_id           TEXT NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
	account_id        TEXT NOT NULL,
	status            TEXT NOT NULL,
	sealed_secret     TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	last_used_at      INTEGER NOT NULL,
	last_used_service TEXT NOT NULL,
	last_used_region  TEXT NOT NULL
);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at);

CREATE TABLE oidc_providers (
	arn          TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	url          TEXT NOT NULL,
	client_ids   TEXT NOT NULL,
	thumbprints  TEXT NOT NULL,
	tags         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	UNIQUE (account_id, url)
);
