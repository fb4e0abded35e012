package adminapi_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"
)

// TestOrganizationsServiceAccess: IAM Identity Center (which Gatehouse is)
// has trusted access to the organization since the instance was made, as
// Terraform's aws_organizations_organization data source reads it with
// ListAWSServiceAccessForOrganization; bad page arguments and a caller
// without the action are refused.
func TestOrganizationsServiceAccess(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	out, err := c.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	if err != nil {
		t.Fatalf("ListAWSServiceAccessForOrganization: %v", err)
	}
	if len(out.EnabledServicePrincipals) != 1 || aws.ToString(out.EnabledServicePrincipals[0].ServicePrincipal) != "sso.amazonaws.com" ||
		aws.ToTime(out.EnabledServicePrincipals[0].DateEnabled).Sub(srv.Instance.CreatedAt).Abs() > time.Millisecond || out.NextToken != nil {
		t.Errorf("ListAWSServiceAccessForOrganization = %+v, want sso.amazonaws.com since %v", out.EnabledServicePrincipals, srv.Instance.CreatedAt)
	}

	for _, tc := range []struct {
		name string
		in   organizations.ListAWSServiceAccessForOrganizationInput
		want string
	}{
		{"max results 0", organizations.ListAWSServiceAccessForOrganizationInput{MaxResults: aws.Int32(0)}, "InvalidInputException"},
		{"max results 21", organizations.ListAWSServiceAccessForOrganizationInput{MaxResults: aws.Int32(21)}, "InvalidInputException"},
		{"foreign token", organizations.ListAWSServiceAccessForOrganizationInput{NextToken: aws.String("bm9wZQ")}, "InvalidInputException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ListAWSServiceAccessForOrganization(ctx, &tc.in)
			if ae, ok := errors.AsType[smithy.APIError](err); !ok || ae.ErrorCode() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}

	reader := grantOnManagement(t, srv, "ed.developer", "AccountReader", "organizations:ListAccounts")
	_, err = orgs(srv, reader).ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	if ae, ok := errors.AsType[smithy.APIError](err); !ok || ae.ErrorCode() != "AccessDeniedException" ||
		!strings.Contains(ae.ErrorMessage(), "is not authorized to perform: organizations:ListAWSServiceAccessForOrganization on resource: *") {
		t.Errorf("without the action: %v", err)
	}
}
