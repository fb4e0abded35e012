package ldap_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap/ldaptest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// logBuffer is a bytes.Buffer safe for the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storeUnchecked stores LDAP settings and a bind password as they are,
// past Configure's checks, standing in for a directory that went down or
// a password changed in the directory after the Save. password nil keeps
// the stored one.
func storeUnchecked(t *testing.T, srv *servertest.Server, set map[string]string, password *string) {
	t.Helper()
	ctx := t.Context()
	rec, err := srv.Store.GetIdentitySource(ctx, idsource.LDAP)
	if err != nil {
		t.Fatal(err)
	}
	rec.Settings = set
	if password != nil {
		sealed, err := srv.Keys.Seal(keyring.PurposeSecrets, []byte(*password), []byte("gatehouse/idsource/"+idsource.LDAP))
		if err != nil {
			t.Fatal(err)
		}
		rec.SealedSecret = []byte(sealed)
	}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutIdentitySource(ctx, rec) }); err != nil {
		t.Fatal(err)
	}
}

// TestSaveVerifiesServiceBind: a Save binds as the service account with
// the password being saved (or the stored one): a wrong password is a
// ValidationException naming the directory's refusal (Invalid Credentials
// (49)), an unreachable directory one of its own, and neither is stored.
// When the password goes wrong after the Save, a sign-in is the 503
// "directory unavailable" page and the server logs the refusal once at
// Warn (never the password), and the sync's error is ErrBindRefused, not
// ErrUnreachable.
func TestSaveVerifiesServiceBind(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	var logs logBuffer
	srv := servertest.NewLogged(t, nil, &logs)
	ctx := t.Context()
	v := srv.Settings.Defaults()
	v.MFAPolicy = settings.PolicyOff
	if err := srv.Settings.Put(ctx, v); err != nil {
		t.Fatal(err)
	}
	validation := func(err error, want string) {
		t.Helper()
		fe, ok := errors.AsType[*fault.Error](err)
		if !ok || fe.Kind != fault.Validation || !strings.Contains(fe.Message, want) {
			t.Fatalf("Configure = %v, want a Validation fault containing %q", err, want)
		}
	}
	const wrong = "WRONG-bind-pass-xyz"
	pw := wrong
	validation(srv.Sources.Configure(ctx, idsource.LDAP, adSettings(d), &pw),
		"the directory refused the bind DN and password: Invalid Credentials (49)")
	if _, err := srv.Store.GetIdentitySource(ctx, idsource.LDAP); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused Save stored settings: %v", err)
	}
	down := adSettings(d)
	down[ldap.SettingURL] = "ldap://127.0.0.1:9"
	pw = ldaptest.BindPassword
	validation(srv.Sources.Configure(ctx, idsource.LDAP, down, &pw), "could not reach the directory at ldap://127.0.0.1:9")
	badBase := adSettings(d)
	badBase[ldap.SettingUserBaseDN] = "ou=nowhere," + ldaptest.PeopleDN
	validation(srv.Sources.Configure(ctx, idsource.LDAP, badBase, &pw), "could not read userBaseDN")

	if err := srv.Sources.Configure(ctx, idsource.LDAP, adSettings(d), &pw); err != nil {
		t.Fatalf("Save with the right password: %v", err)
	}
	// Kept (nil) secret: the stored one is tried.
	if err := srv.Sources.Configure(ctx, idsource.LDAP, adSettings(d), nil); err != nil {
		t.Fatalf("Save keeping the stored password: %v", err)
	}
	// A new URL with the stored password is refused before any bind: the
	// password would go to that server.
	validation(srv.Sources.Configure(ctx, idsource.LDAP, down, nil), "enter the bind password again")
	if _, err := srv.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}

	// The password changes in the directory after the Save.
	w := wrong
	storeUnchecked(t, srv, adSettings(d), &w)
	before := strings.Count(logs.String(), "portal page unavailable")
	if r := signIn(t, srv, "ana", "ana-pass-1"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("sign-in with a refused service bind: %d, want 503", r.StatusCode)
	}
	l := logs.String()
	if n := strings.Count(l, "portal page unavailable") - before; n != 1 || !strings.Contains(l, "Invalid Credentials (49)") ||
		!strings.Contains(l, "level=WARN") || strings.Contains(l, wrong) {
		t.Fatalf("log after the failed sign-in (%d lines of it):\n%s", n, l)
	}
	_, err := srv.LDAP.Sync(ctx)
	if !errors.Is(err, ldap.ErrBindRefused) || errors.Is(err, ldap.ErrUnreachable) || strings.Contains(err.Error(), "unreachable") ||
		!strings.Contains(err.Error(), "Invalid Credentials (49)") {
		t.Fatalf("sync with a refused service bind: %v, want ErrBindRefused naming Invalid Credentials (49)", err)
	}
}
