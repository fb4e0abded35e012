package adminapi_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
)

func demoServerB(b *testing.B) *servertest.Server {
	return servertest.New(b, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1" })
}

// adminCredsB issues the demo admin's management-account credentials.
func adminCredsB(b *testing.B, srv *servertest.Server) aws.Credentials {
	u, err := srv.Store.GetUserByName(b.Context(), "alice@company.com")
	if err != nil {
		b.Fatal(err)
	}
	p := session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "grant-bench", SessionID: "session-bench", AuthTime: time.Now().Add(-time.Minute)}
	c, err := srv.Issuer.Issue(b.Context(), p, srv.Instance.ManagementAccountID, "AdministratorAccess")
	if err != nil {
		b.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// BenchmarkDescribePermissionSet measures the whole path of one
// sso-admin read over loopback HTTP with the Go SDK: SigV4 signing and
// verification, authorization by the policy engine, the store read and the
// read's audit event, on SQLite, from 32 concurrent clients sharing one
// keep-alive connection pool, client and server in this process on the same
// cores (the SDK's signing and parsing included in the CPU per call).
//
//	go test -run '^$' -bench 'BenchmarkDescribePermissionSet$' -benchtime 10000x ./internal/adminapi/
func BenchmarkDescribePermissionSet(b *testing.B) {
	srv := demoServerB(b)
	c := ssoAdmin(srv, adminCredsB(b, srv))
	ins := aws.String(arn.InstanceARN(srv.Instance.InstanceID))
	out, err := c.CreatePermissionSet(b.Context(), &ssoadmin.CreatePermissionSetInput{InstanceArn: ins, Name: aws.String("Bench")})
	if err != nil {
		b.Fatal(err)
	}
	in := &ssoadmin.DescribePermissionSetInput{InstanceArn: ins, PermissionSetArn: out.PermissionSet.PermissionSetArn}
	b.SetParallelism(benchClients)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.DescribePermissionSet(b.Context(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
