-- Identity sources (store.IdentitySource): the settings of each external
-- source an administrator configured (saml, oidc, ldap), one row per kind,
-- and which one is active. No active row means the built-in directory.
-- settings is a JSON object of strings; sealed_secret the keyring-sealed
-- secret (client secret, bind password), NULL when none.
CREATE TABLE identity_sources (
	kind          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	settings      TEXT NOT NULL,
	sealed_secret BYTEA,
	active        BIGINT NOT NULL DEFAULT 0,
	updated_at    BIGINT NOT NULL,
	updated_by    TEXT COLLATE "C" NOT NULL
);
