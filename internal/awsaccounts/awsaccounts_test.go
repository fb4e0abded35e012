package awsaccounts_test

import (
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestClientsAssumeTheLinkRole reaches a member account of the stand-in
// through the link's role: the caller identity is the assumed role in
// that account, and the secret is stored sealed.
func TestClientsAssumeTheLinkRole(t *testing.T) {
	moto := mototest.Start(t)
	w := domaintest.New(t)
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := &awsaccounts.Service{Store: w.Store, Keys: keys, Audit: w.Audit, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Endpoints: mustEndpoints(t, moto.URL)}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sealed, err := s.SealSecret("111111111111", secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) {
		t.Fatal("the secret is stored in the clear")
	}
	l := &store.AccountLink{
		AccountID: "111111111111", Endpoint: moto.URL, Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SealedSecret: sealed,
		RoleARN: "arn:aws:iam::111111111111:role/" + awsaccounts.DefaultRoleName, Status: store.LinkActive,
	}
	c, err := s.Clients(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "111111111111" || !strings.Contains(*out.Arn, "assumed-role/OrganizationAccountAccessRole/gatehouse") {
		t.Fatalf("caller = %s in %s, want the assumed link role in 111111111111", *out.Arn, *out.Account)
	}
	// A sealed secret does not open for another account's link.
	l2 := *l
	l2.AccountID = "222222222222"
	if _, err := s.Clients(t.Context(), &l2); err == nil {
		t.Fatal("a secret sealed for 111111111111 opened for 222222222222")
	}
}
