-- sso-admin: tags of resources other than permission sets (the instance;
-- later applications and trusted token issuers), kept by resource ARN as a
-- JSON list in the order the keys were first set, and an index for the
-- status-filtered List…Status operations.

CREATE TABLE resource_tags (
	resource_arn TEXT PRIMARY KEY,
	tags         TEXT NOT NULL
);

CREATE INDEX operations_kind_status ON operations (kind, status, created_at, request_id);
