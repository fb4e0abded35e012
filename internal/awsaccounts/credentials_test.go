package awsaccounts_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// fakeSTS answers every AssumeRoleWithSAML with the given credentials.
func fakeSTS(t *testing.T, keyID, secret, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithSAMLResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithSAMLResult>`+
			`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>`+
			`<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithSAMLResult>`+
			`<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithSAMLResponse>`, keyID, secret, token)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCredentialsRefusesMalformedKeys: the credentials a linked account's
// STS answers with end up pasted into shells (the access-keys page's
// export lines) and ~/.aws/credentials; ones holding anything but the
// characters AWS's keys are made of (say `$(…)` or a new line followed by
// credential_process) are refused, not handed on.
func TestCredentialsRefusesMalformedKeys(t *testing.T) {
	ctx := t.Context()
	w := domaintest.New(t)
	keys := newKeys(t, w.Store)
	for _, tc := range []struct {
		name, keyID, secret, token string
		ok                         bool
	}{
		{"aws", "ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEJr//////////wEaDH+abc/def==", true},
		{"shell", "ASIAIOSFODNN7EXAMPLE", "abc$(touch /tmp/pwned)", "token", false},
		{"backtick", "ASIAIOSFODNN7EXAMPLE", "abc`id`", "token", false},
		{"newline", "ASIAIOSFODNN7EXAMPLE", "secret", "token&#10;credential_process = sh -c id", false},
		{"quote", "ASIA\"IOSFODNN7", "secret", "token", false},
		{"empty", "", "secret", "token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := fakeSTS(t, tc.keyID, tc.secret, tc.token)
			s := &awsaccounts.Service{Store: w.Store, Keys: keys, Audit: w.Audit, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Endpoints: mustEndpoints(t, endpoint)}
			sealed, err := s.SealSecret(memberAccount, "secret")
			if err != nil {
				t.Fatal(err)
			}
			link := &store.AccountLink{AccountID: memberAccount, Endpoint: endpoint, Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
				SealedSecret: sealed, Status: store.LinkActive, SAMLProviderARN: "arn:aws:iam::" + memberAccount + ":saml-provider/Gatehouse"}
			fed := &awsaccounts.Federation{Accounts: s, IdP: &samlidp.IdP{Store: w.Store, Keys: keys, BaseURL: "https://gatehouse.example.com", Now: time.Now}}
			user := &store.User{ID: "u-1", UserName: "alice"}
			rc, err := fed.Credentials(ctx, link, awsaccounts.CredentialsRequest{User: user, RoleName: "AWSReservedSSO_Dev_0123456789abcdef",
				SessionDuration: time.Hour, AuthTime: time.Now()})
			if tc.ok {
				if err != nil || rc.SecretAccessKey != tc.secret {
					t.Fatalf("Credentials = %+v, %v; want the STS's credentials", rc, err)
				}
				return
			}
			ae, ok := errors.AsType[*awsproto.Error](err)
			if !ok || ae.Status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, memberAccount) {
				t.Fatalf("Credentials = %+v, %v; want a 503 portal error naming the account", rc, err)
			}
			if strings.Contains(ae.Message, "touch") || strings.Contains(ae.Message, "credential_process") {
				t.Fatalf("message %q repeats the malformed value", ae.Message)
			}
		})
	}
}

// newKeys opens a keyring over st with a random master key.
func newKeys(t *testing.T, st store.Store) *keyring.Ring {
	t.Helper()
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(t.Context(), st, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
