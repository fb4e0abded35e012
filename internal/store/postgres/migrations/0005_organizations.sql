-- Organizations: account state, how it joined, tags and closing time;
-- CreateAccount request statuses. CloudTrail LookupEvents: the attributes
-- it filters on (read-only, access key, resources) and indexes for them.

ALTER TABLE accounts ADD COLUMN state TEXT COLLATE "C" NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE accounts ADD COLUMN joined_method TEXT COLLATE "C" NOT NULL DEFAULT 'CREATED';
ALTER TABLE accounts ADD COLUMN tags TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE accounts ADD COLUMN closed_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE create_account_statuses (
	id             TEXT COLLATE "C" PRIMARY KEY,
	account_name   TEXT COLLATE "C" NOT NULL,
	state          TEXT COLLATE "C" NOT NULL,
	failure_reason TEXT COLLATE "C" NOT NULL,
	account_id     TEXT COLLATE "C" NOT NULL,
	requested_at   BIGINT NOT NULL,
	completed_at   BIGINT NOT NULL
);

ALTER TABLE events ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE;
-- resources: the event's resources as JSON (NULL for none); event_resources
-- holds them again, one row each, for filtering.
ALTER TABLE events ADD COLUMN resources TEXT COLLATE "C";
ALTER TABLE events ADD COLUMN access_key_id TEXT COLLATE "C" NOT NULL DEFAULT '';
-- Records are written by encoding/json, so they are valid JSON.
UPDATE events SET
	read_only = COALESCE((convert_from(record, 'UTF8')::jsonb ->> 'readOnly')::boolean, FALSE),
	access_key_id = COALESCE(convert_from(record, 'UTF8')::jsonb -> 'userIdentity' ->> 'accessKeyId', '')
WHERE record IS NOT NULL;
CREATE INDEX events_principal ON events (principal, event_time, id);
CREATE INDEX events_name ON events (name, event_time, id);
CREATE INDEX events_access_key ON events (access_key_id, event_time, id);

CREATE TABLE event_resources (
	event_id      TEXT COLLATE "C" NOT NULL,
	resource_type TEXT COLLATE "C" NOT NULL,
	resource_name TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (event_id, resource_type, resource_name)
);
CREATE INDEX event_resources_name ON event_resources (resource_name);
CREATE INDEX event_resources_type ON event_resources (resource_type);
