package web

// The pages of invitations, password resets and first-admin setup.

// SetPassword asks for a new password: the activation page of an
// invitation (Action "/activate") or the page of a reset link ("/reset").
type SetPassword struct {
	Layout
	// Action is the path the form posts to.
	Action string
	// Token is the link's token, posted back with the form.
	Token    string
	UserName string
	// MinLength is the shortest password accepted, in characters.
	MinLength int
	Error     string
}

// Forgot asks for a user name or e-mail address to send a reset link to;
// Sent shows the answer, the same whether or not the user exists.
type Forgot struct {
	Layout
	Sent  bool
	Error string
}

// Setup creates the first administrator from the setup link.
type Setup struct {
	Layout
	Token                           string
	UserName, GivenName, FamilyName string
	Email                           string
	MinLength                       int
	Error                           string
}

func (SetPassword) template() string { return "set_password" }
func (Forgot) template() string      { return "forgot" }
func (Setup) template() string       { return "setup" }

// invitePages are the templates of this file's pages.
var invitePages = []string{"set_password", "forgot", "setup"}
