-- Delegated administrators (Organizations RegisterDelegatedAdministrator):
-- member accounts registered for a service principal; for Identity Center
-- (sso.amazonaws.com) their sessions may call the admin APIs.

CREATE TABLE delegated_admins (
	account_id        TEXT NOT NULL,
	service_principal TEXT NOT NULL,
	enabled_at        INTEGER NOT NULL,
	PRIMARY KEY (account_id, service_principal)
);
CREATE INDEX delegated_admins_principal ON delegated_admins (service_principal, account_id);
