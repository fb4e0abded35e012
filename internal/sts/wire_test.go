package sts_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

// TestCallerIdentityBytes holds the hand-written GetCallerIdentity writer to
// the bytes awsproto.WriteQueryResponse produces.
func TestCallerIdentityBytes(t *testing.T) {
	for _, res := range []sts.GetCallerIdentityResult{
		{Arn: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.test",
			UserID: "AROAEXAMPLEROLEID1234:alice@example.test", Account: "111122223333"},
		{Arn: `a<b>&"c'` + "\t\n\r\x01", UserID: "ünï©ødé \uFFFE", Account: ""},
	} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		for _, w := range []*httptest.ResponseRecorder{want, got} {
			w.Header().Set(awsproto.RequestIDHeader, "3f0a0000-0000-4000-8000-000000000000")
		}
		if err := awsproto.WriteQueryResponse(want, awsproto.STSNamespace, "GetCallerIdentity", &res); err != nil {
			t.Fatal(err)
		}
		sts.WriteCallerIdentity(got, &res)
		if diff := cmp.Diff(want.Body.String(), got.Body.String()); diff != "" {
			t.Errorf("body (-awsproto +sts):\n%s", diff)
		}
		if diff := cmp.Diff(want.Result().Header, got.Result().Header); diff != "" || want.Code != got.Code {
			t.Errorf("status %d vs %d, headers (-awsproto +sts):\n%s", want.Code, got.Code, diff)
		}
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	s := &session.Role{
		AccessKeyID: "ASIAAAAAAAAAAAAAAAAA", UserID: "u", UserName: "ünï", GrantID: "g", SessionID: "s",
		AccountID: "111122223333", PermissionSetID: "ps-0123456789abcdef", RoleName: "r", RoleID: "AROA", MFA: true,
		AuthTime: time.Unix(1, 2).UTC(), IssuedAt: time.Unix(3, 4).UTC(), Expiration: time.Unix(5, 6).UTC(),
	}
	web := *s
	web.UserID, web.GrantID, web.SessionID, web.MFA = "", "", "", false
	web.Provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
	gen := web
	gen.ProviderCreatedAt = time.Unix(1700000000, 123456789).UTC()
	for _, s := range []*session.Role{s, &web, &gen} {
		got, secret, err := sts.DecodeEnvelope(sts.EncodeEnvelope(s, "secret"))
		if err != nil || secret != "secret" {
			t.Fatalf("decode: %q, %v", secret, err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// FuzzDecodeEnvelope checks that no input panics the decoder and that what
// it accepts encodes back to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(sts.EncodeEnvelope(&session.Role{AccessKeyID: "ASIA", UserName: "alice", IssuedAt: time.Unix(9, 0)}, "k"))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, secret, err := sts.DecodeEnvelope(b)
		if err != nil {
			return
		}
		if got := sts.EncodeEnvelope(s, secret); string(got) != string(b) {
			// Varints have one canonical form each; non-canonical input
			// (overlong varints, flag bits other than MFA) may decode but
			// not re-encode identically. Decoding the re-encoding must
			// still give the same session.
			s2, secret2, err := sts.DecodeEnvelope(got)
			if err != nil || secret2 != secret || *s2 != *s {
				t.Fatalf("re-encoded envelope decodes differently: %v", err)
			}
		}
	})
}
