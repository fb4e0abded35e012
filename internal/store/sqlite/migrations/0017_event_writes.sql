-- Fewer B-trees written per audit event (issue 12: every credential issue
-- commits its event before the answer, and each B-tree an event touches is
-- one more WAL page per commit).
--
-- events_access_key holds only the events signed with an access key:
-- lookups by access key name one (eventQuery adds access_key_id <> '', the
-- index's condition), and the portal's, OIDC's and sign-in's events, which
-- have none, no longer write to it.
DROP INDEX events_access_key;
CREATE INDEX events_access_key ON events (access_key_id, event_time, id) WHERE access_key_id <> '';

-- event_resources is keyed by its primary key alone (WITHOUT ROWID): the
-- rowid table and the primary key's own index were two B-trees per row.
CREATE TABLE event_resources_keyed (
	event_id      TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	resource_name TEXT NOT NULL,
	PRIMARY KEY (event_id, resource_type, resource_name)
) WITHOUT ROWID;
INSERT INTO event_resources_keyed (event_id, resource_type, resource_name)
	SELECT event_id, resource_type, resource_name FROM event_resources;
DROP TABLE event_resources;
ALTER TABLE event_resources_keyed RENAME TO event_resources;
CREATE INDEX event_resources_name ON event_resources (resource_name);
CREATE INDEX event_resources_type ON event_resources (resource_type);
