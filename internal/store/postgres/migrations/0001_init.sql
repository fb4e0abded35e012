-- Initial schema, the PostgreSQL twin of the sqlite backend's. Times are
-- Unix nanoseconds (0 for the zero time), lists and nested values JSON text;
-- *_key columns hold lower-cased names for case-insensitive uniqueness.
-- Column names must match internal/store/sqldb. Text columns use the "C"
-- collation so that ORDER BY and the > comparisons of paging agree with
-- SQLite's byte order whatever the database's locale.

CREATE TABLE change_seq (
	id  BIGINT PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO change_seq (id, seq) VALUES (1, 0);

CREATE TABLE instance (
	id                    BIGINT PRIMARY KEY CHECK (id = 1),
	instance_id           TEXT COLLATE "C" NOT NULL,
	identity_store_id     TEXT COLLATE "C" NOT NULL,
	management_account_id TEXT COLLATE "C" NOT NULL,
	name                  TEXT COLLATE "C" NOT NULL,
	region                TEXT COLLATE "C" NOT NULL,
	start_url             TEXT COLLATE "C" NOT NULL,
	created_at            BIGINT NOT NULL
);

CREATE TABLE keys (
	id         TEXT COLLATE "C" PRIMARY KEY,
	purpose    TEXT COLLATE "C" NOT NULL,
	sealed     BYTEA,
	created_at BIGINT NOT NULL,
	active     BOOLEAN NOT NULL
);
CREATE INDEX keys_purpose ON keys (purpose, created_at);

CREATE TABLE accounts (
	id         TEXT COLLATE "C" PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL,
	email      TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE users (
	id            TEXT COLLATE "C" PRIMARY KEY,
	user_name     TEXT COLLATE "C" NOT NULL,
	user_name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	display_name  TEXT COLLATE "C" NOT NULL,
	name          TEXT COLLATE "C" NOT NULL,
	emails        TEXT COLLATE "C" NOT NULL,
	profile       BYTEA,
	disabled      BOOLEAN NOT NULL,
	password_hash TEXT COLLATE "C" NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	created_by    TEXT COLLATE "C" NOT NULL,
	updated_by    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE directory_groups (
	id               TEXT COLLATE "C" PRIMARY KEY,
	display_name     TEXT COLLATE "C" NOT NULL,
	display_name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	description      TEXT COLLATE "C" NOT NULL,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	created_by       TEXT COLLATE "C" NOT NULL,
	updated_by       TEXT COLLATE "C" NOT NULL
);

CREATE TABLE group_memberships (
	id         TEXT COLLATE "C" PRIMARY KEY,
	group_id   TEXT COLLATE "C" NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
	user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	created_by TEXT COLLATE "C" NOT NULL,
	UNIQUE (group_id, user_id)
);
CREATE INDEX group_memberships_user ON group_memberships (user_id, id);
CREATE INDEX group_memberships_group ON group_memberships (group_id, id);

CREATE TABLE permission_sets (
	id                TEXT COLLATE "C" PRIMARY KEY,
	name              TEXT COLLATE "C" NOT NULL,
	name_key          TEXT COLLATE "C" NOT NULL UNIQUE,
	description       TEXT COLLATE "C" NOT NULL,
	session_duration  BIGINT NOT NULL,
	relay_state       TEXT COLLATE "C" NOT NULL,
	managed_policies  TEXT COLLATE "C" NOT NULL,
	customer_policies TEXT COLLATE "C" NOT NULL,
	inline_policy     TEXT COLLATE "C" NOT NULL,
	boundary          TEXT COLLATE "C" NOT NULL,
	tags              TEXT COLLATE "C" NOT NULL,
	version           BIGINT NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE TABLE assignments (
	account_id        TEXT COLLATE "C" NOT NULL,
	permission_set_id TEXT COLLATE "C" NOT NULL,
	principal_type    TEXT COLLATE "C" NOT NULL,
	principal_id      TEXT COLLATE "C" NOT NULL,
	created_at        BIGINT NOT NULL,
	PRIMARY KEY (account_id, permission_set_id, principal_type, principal_id)
);
CREATE INDEX assignments_principal ON assignments (principal_type, principal_id);
CREATE INDEX assignments_permission_set ON assignments (permission_set_id);

CREATE TABLE provisioned_roles (
	account_id             TEXT COLLATE "C" NOT NULL,
	permission_set_id      TEXT COLLATE "C" NOT NULL,
	role_name              TEXT COLLATE "C" NOT NULL,
	role_id                TEXT COLLATE "C" NOT NULL,
	permission_set_version BIGINT NOT NULL,
	created_at             BIGINT NOT NULL,
	updated_at             BIGINT NOT NULL,
	PRIMARY KEY (account_id, permission_set_id)
);
CREATE INDEX provisioned_roles_permission_set ON provisioned_roles (permission_set_id);

CREATE TABLE operations (
	request_id        TEXT COLLATE "C" PRIMARY KEY,
	kind              TEXT COLLATE "C" NOT NULL,
	status            TEXT COLLATE "C" NOT NULL,
	failure_reason    TEXT COLLATE "C" NOT NULL,
	account_id        TEXT COLLATE "C" NOT NULL,
	permission_set_id TEXT COLLATE "C" NOT NULL,
	principal_type    TEXT COLLATE "C" NOT NULL,
	principal_id      TEXT COLLATE "C" NOT NULL,
	created_at        BIGINT NOT NULL
);
CREATE INDEX operations_kind ON operations (kind, created_at, request_id);
CREATE INDEX operations_created ON operations (created_at, request_id);

CREATE TABLE customer_policies (
	account_id TEXT COLLATE "C" NOT NULL,
	path       TEXT COLLATE "C" NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	document   TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, path, name)
);

CREATE TABLE events (
	id         TEXT COLLATE "C" PRIMARY KEY,
	event_time BIGINT NOT NULL,
	source     TEXT COLLATE "C" NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	principal  TEXT COLLATE "C" NOT NULL,
	error_code TEXT COLLATE "C" NOT NULL,
	record     BYTEA
);
CREATE INDEX events_time ON events (event_time, id);

CREATE TABLE oidc_clients (
	id            TEXT COLLATE "C" PRIMARY KEY,
	secret_hash   TEXT COLLATE "C" NOT NULL,
	name          TEXT COLLATE "C" NOT NULL,
	client_type   TEXT COLLATE "C" NOT NULL,
	scopes        TEXT COLLATE "C" NOT NULL,
	grant_types   TEXT COLLATE "C" NOT NULL,
	redirect_uris TEXT COLLATE "C" NOT NULL,
	issuer_url    TEXT COLLATE "C" NOT NULL,
	issued_at     BIGINT NOT NULL,
	expires_at    BIGINT NOT NULL
);

CREATE TABLE device_auths (
	device_code_hash TEXT COLLATE "C" PRIMARY KEY,
	user_code        TEXT COLLATE "C" NOT NULL UNIQUE,
	client_id        TEXT COLLATE "C" NOT NULL,
	start_url        TEXT COLLATE "C" NOT NULL,
	scopes           TEXT COLLATE "C" NOT NULL,
	status           TEXT COLLATE "C" NOT NULL,
	user_id          TEXT COLLATE "C" NOT NULL,
	session_id       TEXT COLLATE "C" NOT NULL,
	poll_interval    BIGINT NOT NULL,
	last_polled_at   BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	expires_at       BIGINT NOT NULL
);
CREATE INDEX device_auths_expires ON device_auths (expires_at);

CREATE TABLE auth_codes (
	code_hash    TEXT COLLATE "C" PRIMARY KEY,
	client_id    TEXT COLLATE "C" NOT NULL,
	redirect_uri TEXT COLLATE "C" NOT NULL,
	challenge    TEXT COLLATE "C" NOT NULL,
	scopes       TEXT COLLATE "C" NOT NULL,
	user_id      TEXT COLLATE "C" NOT NULL,
	session_id   TEXT COLLATE "C" NOT NULL,
	grant_id     TEXT COLLATE "C" NOT NULL,
	used_at      BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE grants (
	id         TEXT COLLATE "C" PRIMARY KEY,
	client_id  TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	session_id TEXT COLLATE "C" NOT NULL,
	scopes     TEXT COLLATE "C" NOT NULL,
	mfa        BOOLEAN NOT NULL,
	auth_time  BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL
);
CREATE INDEX grants_user ON grants (user_id, created_at);
CREATE INDEX grants_session ON grants (session_id, created_at);
CREATE INDEX grants_expires ON grants (expires_at);

CREATE TABLE tokens (
	hash       TEXT COLLATE "C" PRIMARY KEY,
	kind       TEXT COLLATE "C" NOT NULL,
	grant_id   TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL
);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE sessions (
	id_hash    TEXT COLLATE "C" PRIMARY KEY,
	user_id    TEXT COLLATE "C" NOT NULL,
	mfa        BOOLEAN NOT NULL,
	auth_time  BIGINT NOT NULL,
	source_ip  TEXT COLLATE "C" NOT NULL,
	user_agent TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE revocations (
	kind       TEXT COLLATE "C" NOT NULL,
	subject    TEXT COLLATE "C" NOT NULL,
	revoked_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (kind, subject)
);
CREATE INDEX revocations_at ON revocations (revoked_at);

CREATE TABLE rate_counters (
	rate_key     TEXT COLLATE "C" NOT NULL,
	window_start BIGINT NOT NULL,
	window_end   BIGINT NOT NULL,
	hits         BIGINT NOT NULL,
	PRIMARY KEY (rate_key, window_start)
);
CREATE INDEX rate_counters_end ON rate_counters (window_end);

CREATE TABLE mfa_devices (
	id           TEXT COLLATE "C" PRIMARY KEY,
	user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_type  TEXT COLLATE "C" NOT NULL,
	name         TEXT COLLATE "C" NOT NULL,
	sealed       BYTEA,
	last_step    BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL
);
CREATE INDEX mfa_devices_user ON mfa_devices (user_id, created_at);
