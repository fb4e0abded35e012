-- Initial schema. Times are Unix nanoseconds (0 for the zero time), lists
-- and nested values JSON text; *_key columns hold lower-cased names for
-- case-insensitive uniqueness. Column names must match internal/store/sqldb.

CREATE TABLE change_seq (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO change_seq (id, seq) VALUES (1, 0);

CREATE TABLE instance (
	id                    INTEGER PRIMARY KEY CHECK (id = 1),
	instance_id           TEXT NOT NULL,
	identity_store_id     TEXT NOT NULL,
	management_account_id TEXT NOT NULL,
	name                  TEXT NOT NULL,
	region                TEXT NOT NULL,
	start_url             TEXT NOT NULL,
	created_at            INTEGER NOT NULL
);

CREATE TABLE keys (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,
	sealed     BLOB,
	created_at INTEGER NOT NULL,
	active     INTEGER NOT NULL
);
CREATE INDEX keys_purpose ON keys (purpose, created_at);

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	user_name     TEXT NOT NULL,
	user_name_key TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	name          TEXT NOT NULL,
	emails        TEXT NOT NULL,
	profile       BLOB,
	disabled      INTEGER NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	created_by    TEXT NOT NULL,
	updated_by    TEXT NOT NULL
);

CREATE TABLE directory_groups (
	id               TEXT PRIMARY KEY,
	display_name     TEXT NOT NULL,
	display_name_key TEXT NOT NULL UNIQUE,
	description      TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	created_by       TEXT NOT NULL,
	updated_by       TEXT NOT NULL
);

CREATE TABLE group_memberships (
	id         TEXT PRIMARY KEY,
	group_id   TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	UNIQUE (group_id, user_id)
);
CREATE INDEX group_memberships_user ON group_memberships (user_id, id);
CREATE INDEX group_memberships_group ON group_memberships (group_id, id);

CREATE TABLE permission_sets (
	id                TEXT PRIMARY KEY,
	name              TEXT NOT NULL,
	name_key          TEXT NOT NULL UNIQUE,
	description       TEXT NOT NULL,
	session_duration  INTEGER NOT NULL,
	relay_state       TEXT NOT NULL,
	managed_policies  TEXT NOT NULL,
	customer_policies TEXT NOT NULL,
	inline_policy     TEXT NOT NULL,
	boundary          TEXT NOT NULL,
	tags              TEXT NOT NULL,
	version           INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);

CREATE TABLE assignments (
	account_id        TEXT NOT NULL,
	permission_set_id TEXT NOT NULL,
	principal_type    TEXT NOT NULL,
	principal_id      TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	PRIMARY KEY (account_id, permission_set_id, principal_type, principal_id)
);
CREATE INDEX assignments_principal ON assignments (principal_type, principal_id);
CREATE INDEX assignments_permission_set ON assignments (permission_set_id);

CREATE TABLE provisioned_roles (
	account_id             TEXT NOT NULL,
	permission_set_id      TEXT NOT NULL,
	role_name              TEXT NOT NULL,
	role_id                TEXT NOT NULL,
	permission_set_version INTEGER NOT NULL,
	created_at             INTEGER NOT NULL,
	updated_at             INTEGER NOT NULL,
	PRIMARY KEY (account_id, permission_set_id)
);
CREATE INDEX provisioned_roles_permission_set ON provisioned_roles (permission_set_id);

CREATE TABLE operations (
	request_id        TEXT PRIMARY KEY,
	kind              TEXT NOT NULL,
	status            TEXT NOT NULL,
	failure_reason    TEXT NOT NULL,
	account_id        TEXT NOT NULL,
	permission_set_id TEXT NOT NULL,
	principal_type    TEXT NOT NULL,
	principal_id      TEXT NOT NULL,
	created_at        INTEGER NOT NULL
);
CREATE INDEX operations_kind ON operations (kind, created_at, request_id);
CREATE INDEX operations_created ON operations (created_at, request_id);

CREATE TABLE customer_policies (
	account_id TEXT NOT NULL,
	path       TEXT NOT NULL,
	name       TEXT NOT NULL,
	document   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, path, name)
);

CREATE TABLE events (
	id         TEXT PRIMARY KEY,
	event_time INTEGER NOT NULL,
	source     TEXT NOT NULL,
	name       TEXT NOT NULL,
	principal  TEXT NOT NULL,
	error_code TEXT NOT NULL,
	record     BLOB
);
CREATE INDEX events_time ON events (event_time, id);

CREATE TABLE oidc_clients (
	id            TEXT PRIMARY KEY,
	secret_hash   TEXT NOT NULL,
	name          TEXT NOT NULL,
	client_type   TEXT NOT NULL,
	scopes        TEXT NOT NULL,
	grant_types   TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	issuer_url    TEXT NOT NULL,
	issued_at     INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL
);

CREATE TABLE device_auths (
	device_code_hash TEXT PRIMARY KEY,
	user_code        TEXT NOT NULL UNIQUE,
	client_id        TEXT NOT NULL,
	start_url        TEXT NOT NULL,
	scopes           TEXT NOT NULL,
	status           TEXT NOT NULL,
	user_id          TEXT NOT NULL,
	session_id       TEXT NOT NULL,
	poll_interval    INTEGER NOT NULL,
	last_polled_at   INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL
);
CREATE INDEX device_auths_expires ON device_auths (expires_at);

CREATE TABLE auth_codes (
	code_hash    TEXT PRIMARY KEY,
	client_id    TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	challenge    TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	session_id   TEXT NOT NULL,
	grant_id     TEXT NOT NULL,
	used_at      INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE grants (
	id         TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	scopes     TEXT NOT NULL,
	mfa        INTEGER NOT NULL,
	auth_time  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL
);
CREATE INDEX grants_user ON grants (user_id, created_at);
CREATE INDEX grants_session ON grants (session_id, created_at);
CREATE INDEX grants_expires ON grants (expires_at);

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL
);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	mfa        INTEGER NOT NULL,
	auth_time  INTEGER NOT NULL,
	source_ip  TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE revocations (
	kind       TEXT NOT NULL,
	subject    TEXT NOT NULL,
	revoked_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (kind, subject)
);
CREATE INDEX revocations_at ON revocations (revoked_at);

CREATE TABLE rate_counters (
	rate_key     TEXT NOT NULL,
	window_start INTEGER NOT NULL,
	window_end   INTEGER NOT NULL,
	hits         INTEGER NOT NULL,
	PRIMARY KEY (rate_key, window_start)
);
CREATE INDEX rate_counters_end ON rate_counters (window_end);

CREATE TABLE mfa_devices (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_type  TEXT NOT NULL,
	name         TEXT NOT NULL,
	sealed       BLOB,
	last_step    INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id, created_at);
