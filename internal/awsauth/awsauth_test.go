package awsauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// unavailableSessions fails every Open as the access cache does when the
// store's change counter is unreadable.
type unavailableSessions struct{}

func (unavailableSessions) Open(ctx context.Context, accessKeyID, token string) (*session.Role, string, error) {
	return nil, "", fmt.Errorf("check revocation of %s: %w", accessKeyID, fault.Unavailablef(errors.New("read change sequence: database is locked"), "retry"))
}

// noEvents fails the test if a refusal is audited.
type noEvents struct{ t *testing.T }

func (n noEvents) Record(ctx context.Context, e audit.Entry) error {
	n.t.Errorf("audited %s %s as a refusal", e.Name, e.ErrorCode)
	return errors.New("store unavailable")
}

// TestUnavailableIsNotARefusal: a request that cannot be verified because
// the store is unavailable is neither audited as a refusal nor turned into
// an internal error by that audit failing, on the awsJson (ThrottlingException)
// and awsQuery (ServiceUnavailable) paths alike.
func TestUnavailableIsNotARefusal(t *testing.T) {
	a := &awsauth.Authenticator{Sessions: unavailableSessions{}, Verifier: &sigv4.Verifier{Now: time.Now}, Events: noEvents{t}}
	for _, tc := range []struct {
		name, target, service, code string
		p                           awsproto.Protocol
	}{
		{"json", "SWBExternalService.ListInstances", "sso", "ThrottlingException", awsproto.ProtocolJSON},
		{"query", "", "sts", "ServiceUnavailable", awsproto.ProtocolQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "{}"
			r, _ := http.NewRequestWithContext(t.Context(), "POST", "http://127.0.0.1/", strings.NewReader(body))
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			sum := sha256.Sum256([]byte(body))
			creds := aws.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE12", SecretAccessKey: "secret", SessionToken: "token"}
			if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hex.EncodeToString(sum[:]), tc.service, "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			_, err := a.Authenticate(t.Context(), r, []byte(body), tc.service)
			if e := awsproto.ErrorFor(tc.p, err); e.Code != tc.code || e.RetryAfterSeconds != awsproto.UnavailableRetryAfter {
				t.Errorf("Authenticate: %v, mapped to %s (Retry-After %d), want %s", err, e.Code, e.RetryAfterSeconds, tc.code)
			}
		})
	}
}
