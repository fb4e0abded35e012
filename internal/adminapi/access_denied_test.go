package adminapi_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccessDenied messages keep AWS's prefix, which users and tools match
// on, and say why: a member-account session is refused whatever its policy
// allows, a management-account session whose permission set lacks the
// action is refused by its policies, and an IAM user may not call the
// role-session operations.
func TestAccessDeniedSaysWhy(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	reader := grantOnManagement(t, srv, "ed.developer", "OrgReader", "organizations:List*")
	member := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		why   string
	}{
		{"member account", member, " because only the management account and delegated administrators may call cloudtrail APIs"},
		{"policy lacks the action", reader, " because no identity-based policy allows the cloudtrail:LookupEvents action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := stsClient(srv, tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = trail(srv, tc.creds).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
			ae := orgAPIError(t, err)
			prefix := "User: " + aws.ToString(id.Arn) + " is not authorized to perform: cloudtrail:LookupEvents on resource: *"
			if ae.ErrorCode() != "AccessDeniedException" || !strings.HasPrefix(ae.ErrorMessage(), prefix+tc.why) {
				t.Errorf("LookupEvents: %s %q\nwant AccessDeniedException %q", ae.ErrorCode(), ae.ErrorMessage(), prefix+tc.why+"…")
			}
		})
	}

	t.Run("IAM user lists roles", func(t *testing.T) {
		admin := autoIAM(srv, adminCreds(t, srv))
		if _, err := admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
			t.Fatal(err)
		}
		key, err := admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
		if err != nil {
			t.Fatal(err)
		}
		ci := autoIAM(srv, aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)})
		u, err := admin.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("ci")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ci.ListRoles(ctx, &awsiam.ListRolesInput{})
		ae := orgAPIError(t, err)
		want := "User: " + aws.ToString(u.User.Arn) + " is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::" +
			srv.Instance.ManagementAccountID + ":role/ because Gatehouse answers iam:ListRoles only for role sessions"
		if ae.ErrorCode() != "AccessDenied" || !strings.HasPrefix(ae.ErrorMessage(), want) {
			t.Errorf("ListRoles: %s %q\nwant AccessDenied %q…", ae.ErrorCode(), ae.ErrorMessage(), want)
		}
	})
}
