package idsource_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

type world struct {
	*domaintest.World
	src   *idsource.Service
	ended []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: domaintest.New(t)}
	master := make([]byte, keyring.MasterKeySize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.src = &idsource.Service{
		Store: w.Store, Keys: keys, Audit: w.Audit, Directory: w.Directory, IDs: w.IDs, Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), IdentityStoreID: w.Instance.IdentityStoreID,
		End: func(ctx context.Context, tx store.Tx, userID string) error {
			w.ended = append(w.ended, userID)
			return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: userID, At: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		},
	}
	w.src.Register(&idsource.Kind{
		Name: idsource.OIDC, Title: "OpenID Connect",
		Fields: []idsource.Field{{Name: "issuer", Required: true}, {Name: "preset", Options: []string{"okta", "google"}, Default: "okta"}},
		Secret: &idsource.Field{Name: "clientSecret", Required: true},
	})
	return w
}

func memberOf(t *testing.T, st store.Store, userID string) []string {
	t.Helper()
	ms, err := st.ListMembershipsByUser(t.Context(), userID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		g, err := st.GetGroup(t.Context(), m.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, g.DisplayName)
	}
	slices.Sort(names)
	return names
}

func TestProvisionMatchesByNameThenExternalID(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	// A user and a group made before the source, with an assignment-worthy
	// group and a local group the source never names.
	before, err := w.Directory.CreateUser(ctx, directoryInput("ana@corp.example"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := w.Directory.CreateGroup(ctx, "engineers", "")
	if err != nil {
		t.Fatal(err)
	}
	local, err := w.Directory.CreateGroup(ctx, "local-only", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.AddMember(ctx, local.ID, before.ID); err != nil {
		t.Fatal(err)
	}
	id := idsource.Identity{Issuer: "https://idp.example", Subject: "sub-1", UserName: "ANA@corp.example",
		Email: "ana@corp.example", DisplayName: "Ana Lima", Groups: []string{"engineers", "ops", " ", "OPS"}}
	u, err := w.src.Provision(ctx, id, idsource.SignIn)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != before.ID {
		t.Fatalf("provisioned user %s, want the existing %s (matched by user name)", u.ID, before.ID)
	}
	if u.Name.GivenName != "Ana" || u.Name.FamilyName != "Lima" || u.UserName != "ANA@corp.example" {
		t.Fatalf("user = %+v", u)
	}
	if got := memberOf(t, w.Store, u.ID); !slices.Equal(got, []string{"engineers", "local-only", "ops"}) {
		t.Fatalf("groups = %v", got)
	}
	g, err := w.Store.GetGroup(ctx, eng.ID)
	if err != nil || !slices.Contains(g.ExternalIDs, store.ExternalID{Issuer: "https://idp.example", ID: "engineers"}) {
		t.Fatalf("engineers group = %+v, %v; want it linked to the source", g, err)
	}

	// Renamed upstream and out of "ops": found by external ID, leaves ops,
	// keeps the local group; nil Groups leaves memberships alone.
	id.UserName, id.Groups = "ana.lima", []string{"engineers"}
	u, err = w.src.Provision(ctx, id, idsource.SignIn)
	if err != nil || u.ID != before.ID || u.UserName != "ana.lima" {
		t.Fatalf("second provision = %+v, %v", u, err)
	}
	if got := memberOf(t, w.Store, u.ID); !slices.Equal(got, []string{"engineers", "local-only"}) {
		t.Fatalf("groups after leaving ops = %v", got)
	}
	id.Groups = nil
	if _, err := w.src.Provision(ctx, id, idsource.SignIn); err != nil {
		t.Fatal(err)
	}
	if got := memberOf(t, w.Store, u.ID); !slices.Equal(got, []string{"engineers", "local-only"}) {
		t.Fatalf("groups after a sign-in without groups = %v", got)
	}

	// Another person of the same source cannot take over her user name.
	_, err = w.src.Provision(ctx, idsource.Identity{Issuer: "https://idp.example", Subject: "sub-2", UserName: "ana.lima"}, idsource.SignIn)
	if fault.KindOf(err) != fault.Conflict {
		t.Fatalf("takeover by user name = %v, want a Conflict fault", err)
	}
}

func directoryInput(name string) directory.CreateUserInput {
	return directory.CreateUserInput{UserName: name, DisplayName: "Ana", Name: store.UserName{GivenName: "Ana", FamilyName: "L"}}
}

func TestProvisionDisabledUsers(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	id := idsource.Identity{Issuer: "ldap://dc", Subject: "guid-1", UserName: "bob"}
	u, err := w.src.Provision(ctx, id, idsource.Sync)
	if err != nil || u.Disabled {
		t.Fatalf("provision = %+v, %v", u, err)
	}
	// The directory disables him: disabled, and everything issued ended.
	id.Disabled = true
	if u, err = w.src.Provision(ctx, id, idsource.Sync); err != nil || !u.Disabled {
		t.Fatalf("sync of a disabled person = %+v, %v", u, err)
	}
	if !slices.Equal(w.ended, []string{u.ID}) {
		t.Fatalf("ended = %v, want [%s]", w.ended, u.ID)
	}
	// A sign-in does not enable him; only the directory does.
	id.Disabled = false
	if _, err := w.src.Provision(ctx, id, idsource.SignIn); !errors.Is(err, idsource.ErrUserDisabled) {
		t.Fatalf("sign-in of a disabled user = %v, want ErrUserDisabled", err)
	}
	if u, err = w.src.Provision(ctx, id, idsource.Sync); err != nil || u.Disabled {
		t.Fatalf("sync after the directory enabled him = %+v, %v", u, err)
	}
	// Gone from the directory: Retire disables him.
	retired, err := w.src.Retire(ctx, "ldap://dc", map[string]bool{"guid-other": true})
	if err != nil || !slices.Equal(retired, []string{"bob"}) {
		t.Fatalf("Retire = %v, %v", retired, err)
	}
	got, err := w.Store.GetUser(ctx, u.ID)
	if err != nil || !got.Disabled {
		t.Fatalf("retired user = %+v, %v", got, err)
	}
}

func TestConfigureAndSwitch(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	secret := "s3cret-value"
	err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example", "bogus": "x"}, &secret)
	if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), `unknown setting "bogus"`) {
		t.Fatalf("unknown setting = %v", err)
	}
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, nil); fault.KindOf(err) != fault.Validation {
		t.Fatalf("missing required secret = %v", err)
	}
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example", "preset": "aol"}, &secret); fault.KindOf(err) != fault.Validation {
		t.Fatalf("bad option = %v", err)
	}
	if _, err := w.src.Switch(ctx, idsource.OIDC); fault.KindOf(err) != fault.Validation {
		t.Fatalf("switch to an unconfigured source = %v", err)
	}
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	got, err := w.src.Secret(ctx, idsource.OIDC)
	if err != nil || got != secret {
		t.Fatalf("Secret = %q, %v", got, err)
	}
	settings, has, err := w.src.Settings(ctx, idsource.OIDC)
	if err != nil || !has || settings["preset"] != "okta" {
		t.Fatalf("Settings = %v, %v, %v", settings, has, err)
	}
	rec, err := w.Store.GetIdentitySource(ctx, idsource.OIDC)
	if err != nil || strings.Contains(string(rec.SealedSecret), secret) {
		t.Fatalf("stored secret is not sealed: %q, %v", rec.SealedSecret, err)
	}
	// Changing settings without a secret keeps the stored one.
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://other.example"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.src.Secret(ctx, idsource.OIDC); got != secret {
		t.Fatalf("secret after a settings change = %q", got)
	}

	if _, err := w.Directory.CreateUser(ctx, directoryInput("carla")); err != nil {
		t.Fatal(err)
	}
	plan, err := w.src.PlanSwitch(ctx, idsource.OIDC)
	if err != nil || plan.From != idsource.Directory || plan.To != idsource.OIDC || plan.Users != 1 {
		t.Fatalf("PlanSwitch = %+v, %v", plan, err)
	}
	if kind, _ := w.src.ActiveKind(ctx); kind != idsource.Directory {
		t.Fatalf("a plan switched the source to %s", kind)
	}
	if _, err := w.src.Switch(ctx, idsource.OIDC); err != nil {
		t.Fatal(err)
	}
	if kind, _ := w.src.ActiveKind(ctx); kind != idsource.OIDC {
		t.Fatalf("active = %s after the switch", kind)
	}
	if _, err := w.src.Switch(ctx, idsource.OIDC); fault.KindOf(err) != fault.Validation {
		t.Fatalf("switch to the active source = %v", err)
	}
	// With an external provider active no password is accepted here.
	if _, err := w.src.Authenticate(ctx, "carla", "anything"); err == nil {
		t.Fatal("a password was accepted while an external provider is active")
	}
	evs, err := w.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		if strings.Contains(string(e.Record), secret) {
			t.Fatalf("event %s holds the secret", e.Name)
		}
		names = append(names, e.Name)
	}
	for _, want := range []string{"UpdateIdentitySource", "SwitchIdentitySource"} {
		if !slices.Contains(names, want) {
			t.Fatalf("events %v lack %s", names, want)
		}
	}
	if _, err := w.src.Switch(ctx, idsource.Directory); err != nil {
		t.Fatal(err)
	}
}
