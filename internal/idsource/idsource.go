// Package idsource keeps the instance's identity source: where
// people come from and where they prove who they are. One source is active
// at a time, as in IAM Identity Center (AWS docs, "Manage your identity
// source"): the built-in directory (the default), an external identity
// provider over SAML 2.0 or OpenID Connect, or an LDAP / Active Directory
// server.
//
// This package holds what the kinds share: their stored settings (secrets
// sealed at rest), switching between them with a preview, routing a
// password or a browser sign-in to the active one, and provisioning the
// people an upstream source vouches for into the identity store (Provision).
// Each kind lives in a package of its own under idsource/ and registers a
// Kind; the SCIM server (idsource/scim) writes the identity store directly.
package idsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Kinds of identity source.
const (
	// Directory is the built-in directory: passwords and MFA kept by
	// Gatehouse. It has no settings and is active when no other is.
	Directory = "directory"
	// SAML is an external identity provider over SAML 2.0.
	SAML = "saml"
	// OIDC is an external identity provider over OpenID Connect.
	OIDC = "oidc"
	// LDAP is an LDAP server or Active Directory: users and groups synced
	// from it, passwords checked by an LDAP bind.
	LDAP = "ldap"
)

// Limits on stored settings.
const (
	// maxSettingBytes bounds one setting's value (an IdP metadata
	// document is the largest expected: a few tens of KiB).
	maxSettingBytes = 256 << 10
	// maxSecretBytes bounds a secret (client secret, bind password).
	maxSecretBytes = 4 << 10
)

// Field describes one setting of a kind, for the console's form, the admin
// API and the `gatehouse identity-source` command alike.
type Field struct {
	// Name is the setting's key (camelCase, as the admin API names it).
	Name string
	// Label and Help are shown next to the field.
	Label, Help string
	// Required says the setting may not be empty.
	Required bool
	// Multiline asks for a text area (metadata documents, filters).
	Multiline bool
	// Default is used when the setting is empty.
	Default string
	// Options, when set, are the only values allowed ("" aside when not
	// Required).
	Options []string
	// SecretBound says the setting decides where the kind's secret is sent
	// (a server's URL, the certificate that vouches for it): changing it
	// needs the secret sent again, so that whoever may edit the settings
	// cannot send the stored (write-only) secret to a server of theirs.
	SecretBound bool
}

// Info is a read-only value an administrator copies into the identity
// provider (an ACS URL, a redirect URI, a metadata URL).
type Info struct {
	Label, Value string
}

// Kind is one kind of external identity source, registered by its package.
// Name, Title and Fields are required; the functions are optional unless
// said otherwise.
type Kind struct {
	// Name is SAML, OIDC or LDAP.
	Name string
	// Title names the kind to people ("SAML 2.0 identity provider").
	Title string
	// Fields are the non-secret settings, in display order.
	Fields []Field
	// Secret describes the kind's one secret setting (client secret, bind
	// password); nil when it has none. It is sealed at rest, never shown
	// again and never logged.
	Secret *Field
	// Check reports what is wrong with settings (defaults applied) as a
	// *fault.Error of kind Validation, or nil. hasSecret says a secret is
	// stored or being given. It may set values of the kind's fields in
	// settings (a document fetched from a URL setting); Configure stores
	// what it changed.
	Check func(ctx context.Context, settings map[string]string, hasSecret bool) error
	// Verify, when set, tries settings (defaults applied, after Check) with
	// secret — the one being saved, or the stored one when it is kept; ""
	// when there is none — against the live upstream (an LDAP service
	// bind), returning a *fault.Error of kind Validation saying what
	// failed, or nil. Configure calls it after Check; kinds that check
	// everything in Check leave it nil.
	Verify func(ctx context.Context, settings map[string]string, secret string) error
	// Begin sends the browser to the identity provider to sign in, to come
	// back to next (a path on this server, already checked) afterwards.
	// Required for SAML and OIDC.
	Begin func(w http.ResponseWriter, r *http.Request, next string) error
	// Authenticate checks a user name and password upstream (an LDAP bind)
	// and returns the user, provisioned or updated by Provision;
	// directory.ErrBadCredentials when they do not match. Required for
	// LDAP.
	Authenticate func(ctx context.Context, userName, password string) (*store.User, error)
	// Preview says which users a switch to this kind would match, for the
	// switch's plan.
	Preview func(ctx context.Context) (*Preview, error)
	// Info lists what an administrator pastes into the identity provider.
	Info func() []Info
	// Sync, when set, reads every user and group from the source now and
	// provisions them, recording its own audit event (SyncIdentitySource)
	// when it works (Service.Sync calls it for "Sync now").
	Sync func(ctx context.Context) (SyncCounts, error)
}

// Service keeps the identity source settings and routes sign-ins to the
// active source. Set its fields, Register the kinds, then use it from any
// number of goroutines.
type Service struct {
	Store           store.Store
	Keys            *keyring.Ring
	Audit           *audit.Recorder
	Directory       *directory.Service
	IDs             arn.Generator
	Now             func() time.Time
	Log             *slog.Logger
	IdentityStoreID string
	// End ends everything issued to a user up to now, in tx: a user
	// revocation and their open portal sessions (people.Service.End). It
	// runs when a source disables a user.
	End func(ctx context.Context, tx store.Tx, userID string) error

	kinds map[string]*Kind
}

// Register adds a kind. It is called at wiring time, before any use.
func (s *Service) Register(k *Kind) {
	if s.kinds == nil {
		s.kinds = map[string]*Kind{}
	}
	s.kinds[k.Name] = k
}

// Kind returns the registered kind of name, or nil.
func (s *Service) Kind(name string) *Kind { return s.kinds[name] }

// Kinds returns the registered kinds ordered by name.
func (s *Service) Kinds() []*Kind {
	ks := make([]*Kind, 0, len(s.kinds))
	for _, k := range s.kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].Name < ks[j].Name })
	return ks
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Active returns the active source's stored record, or nil when the
// built-in directory is active.
func (s *Service) Active(ctx context.Context) (*store.IdentitySource, error) {
	all, err := s.Store.ListIdentitySources(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Active {
			return &all[i], nil
		}
	}
	return nil, nil
}

// ActiveKind returns the active source's kind: Directory, SAML, OIDC or
// LDAP.
func (s *Service) ActiveKind(ctx context.Context) (string, error) {
	a, err := s.Active(ctx)
	if err != nil || a == nil {
		return Directory, err
	}
	return a.Kind, nil
}

// Settings returns the stored settings of kind with the kind's defaults
// filled in, and whether a secret is stored; ErrNotFound (store) when the
// kind was never configured.
func (s *Service) Settings(ctx context.Context, kind string) (map[string]string, bool, error) {
	rec, err := s.Store.GetIdentitySource(ctx, kind)
	if err != nil {
		return nil, false, err
	}
	return s.withDefaults(kind, rec.Settings), rec.SealedSecret != nil, nil
}

// Secret opens the stored secret of kind; "" when none is stored.
func (s *Service) Secret(ctx context.Context, kind string) (string, error) {
	rec, err := s.Store.GetIdentitySource(ctx, kind)
	if err != nil {
		return "", err
	}
	if rec.SealedSecret == nil {
		return "", nil
	}
	b, err := s.Keys.Open(keyring.PurposeSecrets, string(rec.SealedSecret), sealAD(kind))
	if err != nil {
		return "", fmt.Errorf("open %s secret: %w", kind, err)
	}
	return string(b), nil
}

// sealAD binds a sealed secret to its kind, so that one kind's secret
// cannot be moved to another's record.
func sealAD(kind string) []byte { return []byte("gatehouse/idsource/" + kind) }

func (s *Service) withDefaults(kind string, settings map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range settings {
		out[k] = v
	}
	if k := s.kinds[kind]; k != nil {
		for _, f := range k.Fields {
			if out[f.Name] == "" && f.Default != "" {
				out[f.Name] = f.Default
			}
		}
	}
	return out
}

// Configure validates and stores the settings of kind, replacing those
// stored, as the actor in ctx, with an audit event (UpdateIdentitySource)
// that names the settings but never the secret. secret nil keeps the
// stored secret, unless a SecretBound setting changes (a Validation
// fault: the secret must be sent again); "" removes it. Unknown setting
// names, values longer than maxSettingBytes or not UTF-8, missing
// required ones, values outside a field's options, a secret longer than
// maxSecretBytes and the kind's own Check are Validation faults.
func (s *Service) Configure(ctx context.Context, kind string, settings map[string]string, secret *string) error {
	k := s.kinds[kind]
	if k == nil {
		return fault.Validationf("Identity source kind %q is not one of %s", kind, strings.Join(s.names(), ", "))
	}
	clean := map[string]string{}
	known := map[string]*Field{}
	for i := range k.Fields {
		known[k.Fields[i].Name] = &k.Fields[i]
	}
	var errs []string
	for name, v := range settings {
		f := known[name]
		switch {
		case f == nil:
			errs = append(errs, fmt.Sprintf("unknown setting %q", name))
			continue
		case len(v) > maxSettingBytes:
			errs = append(errs, fmt.Sprintf("%s is longer than %d bytes", name, maxSettingBytes))
			continue
		case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			errs = append(errs, fmt.Sprintf("%s is not valid text", name))
			continue
		}
		v = strings.TrimSpace(v)
		if v != "" {
			clean[name] = v
		}
	}
	merged := s.withDefaults(kind, clean)
	for _, f := range k.Fields {
		v := merged[f.Name]
		if f.Required && v == "" {
			errs = append(errs, fmt.Sprintf("%s is required", f.Name))
		}
		if v != "" && len(f.Options) > 0 && !slices.Contains(f.Options, v) {
			errs = append(errs, fmt.Sprintf("%s must be one of %s", f.Name, strings.Join(f.Options, ", ")))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fault.Validationf("Invalid %s settings: %s", kind, strings.Join(errs, "; "))
	}
	old, err := s.Store.GetIdentitySource(ctx, kind)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var sealed []byte
	switch {
	case secret != nil && *secret != "":
		if k.Secret == nil {
			return fault.Validationf("The %s identity source has no secret setting", kind)
		}
		if len(*secret) > maxSecretBytes {
			return fault.Validationf("The %s is longer than %d bytes", k.Secret.Name, maxSecretBytes)
		}
		v, err := s.Keys.Seal(keyring.PurposeSecrets, []byte(*secret), sealAD(kind))
		if err != nil {
			return fmt.Errorf("seal %s secret: %w", kind, err)
		}
		sealed = []byte(v)
	case secret == nil && old != nil:
		sealed = old.SealedSecret
	}
	if k.Secret != nil && k.Secret.Required && sealed == nil {
		return fault.Validationf("Invalid %s settings: %s is required", kind, k.Secret.Name)
	}
	if k.Check != nil {
		before := maps.Clone(merged)
		if err := k.Check(ctx, merged, sealed != nil); err != nil {
			return err
		}
		// Check may set its fields (a metadata document fetched from the
		// URL given): what it changed is stored.
		for name := range known {
			if merged[name] == before[name] {
				continue
			}
			if v := merged[name]; v != "" && len(v) <= maxSettingBytes {
				clean[name] = v
			} else {
				delete(clean, name)
			}
		}
	}
	// Check never sees the secret, so it reports bad settings first.
	if secret == nil && old != nil && old.SealedSecret != nil {
		stored := s.withDefaults(kind, old.Settings)
		for _, f := range k.Fields {
			if f.SecretBound && stored[f.Name] != merged[f.Name] {
				return fault.Validationf("Changing %s sends the stored %s elsewhere: enter the %s again to change it",
					f.Name, strings.ToLower(k.Secret.Label), strings.ToLower(k.Secret.Label))
			}
		}
	}
	// Only then is the secret used: Verify reaches the directory with it.
	if k.Verify != nil {
		plain := ""
		switch {
		case secret != nil:
			plain = *secret
		case sealed != nil:
			b, err := s.Keys.Open(keyring.PurposeSecrets, string(sealed), sealAD(kind))
			if err != nil {
				return fmt.Errorf("open %s secret: %w", kind, err)
			}
			plain = string(b)
		}
		if err := k.Verify(ctx, s.withDefaults(kind, clean), plain); err != nil {
			return err
		}
	}
	rec := &store.IdentitySource{
		Kind: kind, Settings: clean, SealedSecret: sealed,
		UpdatedAt: s.now(), UpdatedBy: directory.PrincipalOf(audit.ActorFrom(ctx).Identity),
	}
	params := map[string]any{"kind": kind, "settings": clean, "secretChanged": secret != nil}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutIdentitySource(ctx, rec); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: "UpdateIdentitySource", Params: params})
	})
}

// names lists the registered kinds' names, in Kinds' order.
func (s *Service) names() []string {
	var ns []string
	for _, k := range s.Kinds() {
		ns = append(ns, k.Name)
	}
	return ns
}

// ErrNoExternalSignIn: the active source signs people in with the
// password form (the built-in directory or LDAP), not at an identity
// provider.
var ErrNoExternalSignIn = errors.New("the active identity source has no external sign-in")

// Begin sends the browser to the active external identity provider to sign
// in, to come back to next afterwards. It returns ErrNoExternalSignIn when
// the active source uses the password form.
func (s *Service) Begin(w http.ResponseWriter, r *http.Request, next string) error {
	kind, err := s.ActiveKind(r.Context())
	if err != nil {
		return err
	}
	k := s.kinds[kind]
	if k == nil || k.Begin == nil {
		return ErrNoExternalSignIn
	}
	return k.Begin(w, r, next)
}

// UsesPasswordForm reports whether people sign in with Gatehouse's
// password form (the built-in directory or LDAP) rather than at an
// external identity provider.
func (s *Service) UsesPasswordForm(ctx context.Context) (bool, error) {
	kind, err := s.ActiveKind(ctx)
	if err != nil {
		return false, err
	}
	k := s.kinds[kind]
	return k == nil || k.Begin == nil, nil
}

// ManagesPasswords reports whether Gatehouse keeps people's passwords and
// authenticators itself (the built-in directory); with an external source,
// password pages belong to that source.
func (s *Service) ManagesPasswords(ctx context.Context) (bool, error) {
	kind, err := s.ActiveKind(ctx)
	return kind == Directory, err
}

// Authenticate checks a user name and password against the active
// source: the stored hash for the built-in directory, a bind for LDAP.
// With an external identity provider active no password is accepted here
// (directory.ErrBadCredentials): people sign in at the provider.
func (s *Service) Authenticate(ctx context.Context, userName, password string) (*store.User, error) {
	kind, err := s.ActiveKind(ctx)
	if err != nil {
		return nil, err
	}
	if kind == Directory {
		return s.Directory.Authenticate(ctx, userName, password)
	}
	k := s.kinds[kind]
	if k == nil || k.Authenticate == nil {
		return nil, directory.ErrBadCredentials
	}
	return k.Authenticate(ctx, userName, password)
}
