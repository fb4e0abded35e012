package sigv4

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BenchmarkVerify verifies a Go-SDK-style signed STS request with temporary
// credentials (the hot path of every signed API call).
func BenchmarkVerify(b *testing.B) {
	spec := defaultSpec()
	spec.creds = aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: tempToken}
	spec.headers = http.Header{
		"Content-Type":          {"application/x-www-form-urlencoded"},
		"Amz-Sdk-Invocation-Id": {"710832ac-f425-4a91-889e-c5e8bd3a22fb"},
		"Amz-Sdk-Request":       {"attempt=1; max=3"},
	}
	r, body := sign(b, spec)
	v := newVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, r, body, "sts", fakeSecrets); err != nil {
				b.Fatal(err)
			}
		}
	})
}
