-- Linked accounts (store.AccountLink): an account backed by a real AWS
-- account, or any IAM/STS-compatible endpoint, reached with credentials
-- sealed by the keyring. No row means the account is local.
CREATE TABLE account_links (
	account_id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	endpoint          TEXT COLLATE "C" NOT NULL,
	region            TEXT COLLATE "C" NOT NULL,
	access_key_id     TEXT COLLATE "C" NOT NULL,
	sealed_secret     BYTEA NOT NULL,
	role_arn          TEXT COLLATE "C" NOT NULL,
	external_id       TEXT COLLATE "C" NOT NULL,
	saml_provider_arn TEXT COLLATE "C" NOT NULL,
	status            TEXT COLLATE "C" NOT NULL,
	status_reason     TEXT COLLATE "C" NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	updated_by        TEXT COLLATE "C" NOT NULL
);
