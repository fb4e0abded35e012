-- One B-tree for CloudTrail's lookups by resource (issue 12: every
-- credential issue commits its event before the answer, and each B-tree an
-- event touches is one more WAL page, or more, per commit).
--
-- event_resources held a row per resource in three B-trees: the rows by
-- event, and indexes by resource name and by resource type. Nothing reads
-- the rows by event (an event's resources are read from events.resources),
-- so event_resource_keys holds what the two lookups need in one: a row
-- per resource name (attribute 1) and one per resource type (attribute 0)
-- of each event, keyed by what LookupEvents filters on and then by the
-- event's time, so that a lookup reads its page of events in order
-- instead of every event naming the resource.
CREATE TABLE event_resource_keys (
	attribute  INTEGER NOT NULL, -- 0: ResourceType, 1: ResourceName
	value      TEXT NOT NULL,
	event_time INTEGER NOT NULL,
	event_id   TEXT NOT NULL,
	PRIMARY KEY (attribute, value, event_time, event_id)
) WITHOUT ROWID;
INSERT INTO event_resource_keys (attribute, value, event_time, event_id)
	SELECT 0, r.resource_type, e.event_time, r.event_id FROM event_resources r JOIN events e ON e.id = r.event_id
	UNION SELECT 1, r.resource_name, e.event_time, r.event_id FROM event_resources r JOIN events e ON e.id = r.event_id;
DROP TABLE event_resources;
