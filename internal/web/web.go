package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Layout is what every page shows around its content.
type Layout struct {
	// Title is the page title (the product name is appended).
	Title string
	// User is the signed-in user's name; empty when signed out (no sign-out
	// button).
	User string
}

// Sign-in steps.
const (
	StepUserName = "username"
	StepPassword = "password"
	StepMFA      = "mfa"
)

// SignIn is the sign-in page at one of its steps.
type SignIn struct {
	Layout
	// Step is StepUserName, StepPassword or StepMFA.
	Step     string
	UserName string
	// State is the sealed in-progress sign-in carried to the next step.
	State string
	// Next is the local path to return to after signing in.
	Next  string
	Error string
	// Notice is a confirmation shown above the form ("Your password is
	// set. Sign in.").
	Notice string
	// Key is the security-key ceremony of the StepMFA step, Passkey the
	// passwordless one of the StepUserName step (nil when not offered).
	Key, Passkey *KeyCeremony
	// PasswordsAt names who keeps the passwords when Gatehouse does not
	// (an LDAP directory): the page then says so instead of offering
	// "Forgot your password?".
	PasswordsAt string
}

// DeviceCode asks for the user code of a device authorization.
type DeviceCode struct {
	Layout
	UserCode string
	Error    string
}

// DeviceConfirm asks the signed-in person to confirm a device authorization.
type DeviceConfirm struct {
	Layout
	UserCode   string
	ClientName string
}

// DeviceDone says what became of a device authorization.
type DeviceDone struct {
	Layout
	Approved   bool
	ClientName string
}

// Consent asks the signed-in person to allow a PKCE authorization request.
type Consent struct {
	Layout
	ClientName string
	Scopes     []string
	// RedirectHost is where the browser goes next (host and port).
	RedirectHost string
	// Request is the sealed authorization request.
	Request string
}

// Account is one account on the portal home page.
type Account struct {
	ID, Name, Email string
	// Roles are the permission-set names the user may use in it.
	Roles []string
	// Via is where a linked account's credentials work: its link's
	// IAM/STS endpoint URL, or "AWS" for real AWS; "" for a Gatehouse
	// account.
	Via string
}

// Home is the portal home page.
type Home struct {
	Layout
	StartURL, PortalURL string
	Accounts            []Account
	HasAuthenticator    bool
	// MFAManagedBy, when set, names who keeps the person's MFA (the
	// organization's identity provider): no authenticator is offered.
	MFAManagedBy string
	// Query is the account search (?q=) the list is narrowed by; Total is
	// the number of accounts before narrowing.
	Query string
	Total int
	// Console links to the admin console, for people it lets in.
	Console bool
}

// MFAEnrol registers an authenticator app.
type MFAEnrol struct {
	Layout
	Enrolled bool
	// URI is the otpauth:// URI, built by package mfa (html/template would
	// otherwise refuse the scheme).
	URI    template.URL
	Secret string
	// QR and Key show the key as a QR code and in blocks (TOTPKey).
	QR  template.URL
	Key string
	// Enrolment is the sealed seed being confirmed.
	Enrolment string
	Error     string
}

// Error is an error page.
type Error struct {
	Layout
	Heading  string
	Message  string
	Link     string
	LinkText string
}

// Page is a page this package can render.
type Page interface {
	template() string
}

func (SignIn) template() string        { return "signin" }
func (DeviceCode) template() string    { return "device" }
func (DeviceConfirm) template() string { return "device_confirm" }
func (DeviceDone) template() string    { return "device_done" }
func (Consent) template() string       { return "consent" }
func (Home) template() string          { return "home" }
func (MFAEnrol) template() string      { return "mfa" }
func (Error) template() string         { return "error" }

// Pages is the parsed set of page templates.
type Pages struct {
	byName map[string]*template.Template
}

var pageNames = []string{"signin", "device", "device_confirm", "device_done", "consent", "home", "mfa", "error",
	"signin_enrol", "reauth", "account", "key_enrol"}

// Load parses the embedded templates, each page together with the layout.
func Load() (*Pages, error) {
	p := &Pages{byName: map[string]*template.Template{}}
	for _, name := range append(pageNames, invitePages...) {
		t, err := template.New(name).Funcs(template.FuncMap{"visible": Visible}).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Render writes page as a complete HTML document. Nothing is written when
// rendering fails.
func (p *Pages) Render(w io.Writer, page Page) error {
	t, ok := p.byName[page.template()]
	if !ok {
		return fmt.Errorf("no template for page %s", page.template())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", page); err != nil {
		return fmt.Errorf("render page %s: %w", page.template(), err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Static serves the embedded static files; mount it at /static/ with the
// prefix stripped. Only files are served: a directory path is 404, never a
// listing.
func Static() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded folder always exists
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if fi, err := fs.Stat(sub, name); name == "" || strings.HasSuffix(r.URL.Path, "/") || err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// Visible returns s with every character that could hide or disguise text
// replaced by U+FFFD: C0 and C1 controls, bidirectional embeddings,
// overrides and isolates (Unicode UAX #9), other invisible format
// characters (category Cf) and line or paragraph separators. Pages use it
// on names chosen by others (a client's name on the approval page), which
// RegisterClient already refuses such characters in; this is the second
// line.
func Visible(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.In(c, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return utf8.RuneError
		}
		return c
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
