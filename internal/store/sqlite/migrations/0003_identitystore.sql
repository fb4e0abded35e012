-- The identity store's lookups (identitystore GetUserId / GetGroupId):
-- external IDs of users and groups, unique per (issuer, id) within each
-- kind, and the lower-cased primary e-mail address of each user. The
-- attributes themselves stay in users.profile and the new
-- directory_groups.external_ids (JSON); external_ids is the index over
-- them, written in the same transaction.

CREATE TABLE external_ids (
	principal_type TEXT NOT NULL, -- USER or GROUP
	issuer         TEXT NOT NULL,
	external_id    TEXT NOT NULL,
	principal_id   TEXT NOT NULL,
	PRIMARY KEY (principal_type, issuer, external_id)
);
CREATE INDEX external_ids_principal ON external_ids (principal_id);

ALTER TABLE directory_groups ADD COLUMN external_ids TEXT NOT NULL DEFAULT '[]';

ALTER TABLE users ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE users SET email_key = lower(coalesce(json_extract(emails, '$[0].Value'), ''));
CREATE INDEX users_email_key ON users (email_key, id);
