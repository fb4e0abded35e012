-- Fewer indexes written per audit event (issue 12: every credential issue
-- commits its event before the answer).
--
-- events_access_key holds only the events signed with an access key:
-- lookups by access key name one (eventQuery adds access_key_id <> '', the
-- index's condition), and the portal's, OIDC's and sign-in's events, which
-- have none, no longer write to it.
DROP INDEX events_access_key;
CREATE INDEX events_access_key ON events (access_key_id, event_time, id) WHERE access_key_id <> '';
