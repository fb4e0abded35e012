package sigv4

import (
	"net/http"
	"testing"
)

func TestSigningService(t *testing.T) {
	cases := []struct {
		name, auth, query, want string
	}{
		{"header", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261122/eu-west-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig64, "", "iam"},
		{"header without spaces", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261122/us-east-1/sts/aws4_request,SignedHeaders=host,Signature=" + sig64, "", "sts"},
		{"presigned", "", "X-Amz-Credential=ASIAEXAMPLE%2F20261122%2Fus-east-1%2Fsts%2Faws4_request", "sts"},
		{"malformed header", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/iam", "", ""},
		{"malformed header beats query", "garbage", "X-Amz-Credential=ASIAEXAMPLE%2F20261122%2Fus-east-1%2Fiam%2Faws4_request", ""},
		{"unsigned", "", "Action=GetCallerIdentity", ""},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("POST", "http://127.0.0.1/?"+c.query, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if got := SigningService(r); got != c.want {
			t.Errorf("%s: SigningService = %q, want %q", c.name, got, c.want)
		}
	}
}

const sig64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
