package sigv4

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseAuthorization checks that parsing never panics, fails only with
// KindIncompleteSignature, and that accepted headers round-trip.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=ASIAF6VLHEQI4OBKG42D/20261122/us-west-2/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=2e3e46ae21cef84b4bfcfc0bb2a8c7b985ee2372efa9d6d2eee1601d10b651ea",
		"AWS4-HMAC-SHA256 Credential=ASIAG75B4C4H7UVGKJK1/20261122/us-west-2/sts/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=88eb7c03f011596c377133de5e561e664eaa637d9663d7c27765e36419bfad85",
		"AWS4-HMAC-SHA256 Credential=A/20261122/r/s/aws4_request,SignedHeaders=host,Signature=00000000000000000000000000000000000000000000000000000000000000FF",
		"AWS4-HMAC-SHA256 Signature=x",
		"AWS4-HMAC-SHA256 ",
		"Bearer abc",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindIncompleteSignature {
				t.Fatalf("parseAuthorization(%q) error = %v, want KindIncompleteSignature", s, err)
			}
			return
		}
		again, err := parseAuthorization(a.String())
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", a.String(), s, err)
		}
		if diff := cmp.Diff(a, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}
