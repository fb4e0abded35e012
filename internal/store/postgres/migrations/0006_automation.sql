-- Automation access (store.IAMUser, store.AccessKey, store.OIDCProvider):
-- IAM users with their policies, their long-lived access keys (secrets
-- sealed under the master key) and the OpenID Connect issuers whose tokens
-- AssumeRoleWithWebIdentity accepts.

CREATE TABLE iam_users (
	id               TEXT COLLATE "C" PRIMARY KEY,
	account_id       TEXT COLLATE "C" NOT NULL,
	user_name        TEXT COLLATE "C" NOT NULL,
	name_key         TEXT COLLATE "C" NOT NULL,
	path             TEXT COLLATE "C" NOT NULL,
	tags             TEXT COLLATE "C" NOT NULL,
	managed_policies TEXT COLLATE "C" NOT NULL,
	inline_policies  TEXT COLLATE "C" NOT NULL,
	version          BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	UNIQUE (account_id, name_key)
);

CREATE TABLE access_keys (
	id                TEXT COLLATE "C" PRIMARY KEY,
	user_id           TEXT COLLATE "C" NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
	account_id        TEXT COLLATE "C" NOT NULL,
	status            TEXT COLLATE "C" NOT NULL,
	sealed_secret     TEXT COLLATE "C" NOT NULL,
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	last_used_at      BIGINT NOT NULL,
	last_used_service TEXT COLLATE "C" NOT NULL,
	last_used_region  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX access_keys_user ON access_keys (user_id, created_at);

CREATE TABLE oidc_providers (
	arn          TEXT COLLATE "C" PRIMARY KEY,
	account_id   TEXT COLLATE "C" NOT NULL,
	url          TEXT COLLATE "C" NOT NULL,
	client_ids   TEXT COLLATE "C" NOT NULL,
	thumbprints  TEXT COLLATE "C" NOT NULL,
	tags         TEXT COLLATE "C" NOT NULL,
	created_at   BIGINT NOT NULL,
	UNIQUE (account_id, url)
);
