-- Linked accounts (store.AccountLink): an account backed by a real AWS
-- account, or any IAM/STS-compatible endpoint, reached with credentials
-- sealed by the keyring. No row means the account is local.
CREATE TABLE account_links (
	account_id        TEXT NOT NULL PRIMARY KEY,
	endpoint          TEXT NOT NULL,
	region            TEXT NOT NULL,
	access_key_id     TEXT NOT NULL,
	sealed_secret     BLOB NOT NULL,
	role_arn          TEXT NOT NULL,
	external_id       TEXT NOT NULL,
	saml_provider_arn TEXT NOT NULL,
	status            TEXT NOT NULL,
	status_reason     TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	updated_by        TEXT NOT NULL
);
