-- A user is disabled by an administrator (console, Gatehouse admin API) or
-- by the identity source (SCIM "active": false), and each side lifts only
-- its own disable: a SCIM client's routine "active": true no longer enables
-- a user an administrator disabled. users.disabled keeps its meaning (the
-- user is disabled, by either side); admin_disabled and source_inactive say
-- which side. A user disabled before this migration stays disabled: by
-- the SCIM client when a SCIM client made the user's last change (its
-- principal is "scim/<token ID>"), by an administrator otherwise.
ALTER TABLE users ADD COLUMN admin_disabled BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN source_inactive BOOLEAN NOT NULL DEFAULT false;
UPDATE users SET source_inactive = true WHERE disabled AND updated_by LIKE 'scim/%';
UPDATE users SET admin_disabled = true WHERE disabled AND updated_by NOT LIKE 'scim/%';
