-- A user is disabled by an administrator (console, Gatehouse admin API) or
-- by the identity source (SCIM "active": false), and each side lifts only
-- its own disable: a SCIM client's routine "active": true no longer enables
-- a user an administrator disabled. users.disabled keeps its meaning (the
-- user is disabled, by either side); admin_disabled and source_inactive say
-- which side. A user disabled before this migration stays disabled, and
-- only an administrator lifts it: the old rows do not say who disabled the
-- user (a SCIM client's later PATCH that leaves "active" out, as Entra ID
-- sends, makes it the last writer of a user an administrator disabled), so
-- every such user counts as disabled by an administrator, and also by the
-- identity source when a SCIM client made the user's last change (its
-- principal is "scim/<token ID>"). Failing safe costs an administrator's
-- Enable for a user the IdP disabled and later re-activates.
ALTER TABLE users ADD COLUMN admin_disabled BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN source_inactive BOOLEAN NOT NULL DEFAULT false;
UPDATE users SET source_inactive = true WHERE disabled AND updated_by LIKE 'scim/%';
UPDATE users SET admin_disabled = true WHERE disabled;
