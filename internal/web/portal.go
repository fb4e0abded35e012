package web

// Portal pages added with the access-keys panel (issue 8): the page types
// live here, apart from web.go, and register their templates with Load.

func init() {
	pageNames = append(pageNames, "credentials", "signed_out", "not_found")
}

// Credentials is the access-keys panel of one role: the role credentials
// just issued for the signed-in session, in every form people paste them.
type Credentials struct {
	Layout
	AccountID, AccountName, RoleName string
	// Expires is when the credentials stop working, in UTC (RFC 3339).
	Expires string
	// Bash, Fish and PowerShell set the credentials as environment
	// variables in each shell's syntax; CredentialsFile is a section of
	// ~/.aws/credentials; Config is the ~/.aws/config lines that let the
	// AWS CLI fetch such credentials itself (sso-session, profile and the
	// Gatehouse endpoints); Endpoints are the endpoint variables for bash
	// ("" for an account linked to real AWS, which needs none).
	Bash, Fish, PowerShell, CredentialsFile, Config, Endpoints string
	// Linked says the credentials come from the STS of the account's link
	// (a real AWS account, or the IAM/STS endpoint LinkEndpoint names)
	// and work there only, not against Gatehouse. TryCommand is then the
	// command that tries the Config profile at that STS.
	Linked       bool
	LinkEndpoint string
	TryCommand   string
}

// SignedOut confirms that the portal session ended.
type SignedOut struct {
	Layout
}

// NotFound is the page of an unknown portal path.
type NotFound struct {
	Layout
	// Path is the path asked for, shown to the person.
	Path string
}

func (Credentials) template() string { return "credentials" }
func (SignedOut) template() string   { return "signed_out" }
func (NotFound) template() string    { return "not_found" }
