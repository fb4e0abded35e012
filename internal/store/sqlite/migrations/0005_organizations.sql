-- Organizations: account state, how it joined, tags and closing time;
-- CreateAccount request statuses. CloudTrail LookupEvents: the attributes
-- it filters on (read-only, access key, resources) and indexes for them.

ALTER TABLE accounts ADD COLUMN state TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE accounts ADD COLUMN joined_method TEXT NOT NULL DEFAULT 'CREATED';
ALTER TABLE accounts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE accounts ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE create_account_statuses (
	id             TEXT PRIMARY KEY,
	account_name   TEXT NOT NULL,
	state          TEXT NOT NULL,
	failure_reason TEXT NOT NULL,
	account_id     TEXT NOT NULL,
	requested_at   INTEGER NOT NULL,
	completed_at   INTEGER NOT NULL
);

ALTER TABLE events ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
-- resources: the event's resources as JSON (NULL for none); event_resources
-- holds them again, one row each, for filtering.
ALTER TABLE events ADD COLUMN resources TEXT;
ALTER TABLE events ADD COLUMN access_key_id TEXT NOT NULL DEFAULT '';
UPDATE events SET
	read_only = COALESCE(json_extract(CAST(record AS TEXT), '$.readOnly'), 0),
	access_key_id = COALESCE(json_extract(CAST(record AS TEXT), '$.userIdentity.accessKeyId'), '')
WHERE record IS NOT NULL AND json_valid(CAST(record AS TEXT));
CREATE INDEX events_principal ON events (principal, event_time, id);
CREATE INDEX events_name ON events (name, event_time, id);
CREATE INDEX events_access_key ON events (access_key_id, event_time, id);

CREATE TABLE event_resources (
	event_id      TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	resource_name TEXT NOT NULL,
	PRIMARY KEY (event_id, resource_type, resource_name)
);
CREATE INDEX event_resources_name ON event_resources (resource_name);
CREATE INDEX event_resources_type ON event_resources (resource_type);
