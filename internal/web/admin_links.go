package web

// AdminAccount is one account's page: its AWS link and the link and
// unlink forms.
type AdminAccount struct {
	AdminLayout
	Account AdminAccountRow
	// Configured says account links are available on this server.
	Configured bool
	// Link is the account's link; nil when the account is local.
	Link *AdminLink
	// Form holds what the link form was sent with (never the secret).
	Form AdminLinkForm
	// Policy and Terraform are the least-privilege policy of the linking
	// principal and a Terraform snippet creating it.
	Policy, Terraform string
	Can               Can
}

// AdminLink is an account's link as the page shows it.
type AdminLink struct {
	Endpoint, Region, AccessKeyID, RoleARN, SAMLProviderARN, Status, StatusReason, Updated, UpdatedBy string
}

// AdminLinkForm is the link form's fields, without the secret.
type AdminLinkForm struct {
	Endpoint, Region, AccessKeyID, RoleName, ExternalID string
}

func (AdminAccount) adminTemplate() string { return "account" }
