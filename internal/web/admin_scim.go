package web

// AdminSCIMToken is one SCIM access token in the console (never its
// value).
type AdminSCIMToken struct {
	ID, Description, Status, Created, Expires, LastUsed, CreatedBy string
	Expired                                                        bool
}

// AdminSCIM is the "Automatic provisioning (SCIM)" settings page: the SCIM
// endpoint, the tokens, and a new token shown once after it is created.
type AdminSCIM struct {
	AdminLayout
	Configured bool
	// Endpoint is the SCIM base URL to paste into the identity provider.
	Endpoint string
	Tokens   []AdminSCIMToken
	// NewToken is the token just created, shown this once; NewTokenID
	// names it in the list.
	NewToken, NewTokenID string
	// Description and Days hold what the create form was sent with.
	Description, Days string
	// LDAPActive says LDAP is the active identity source: SCIM requests
	// are refused (403) while it is.
	LDAPActive bool
	Can        Can
}

func (AdminSCIM) adminTemplate() string { return "scim" }
