package adminapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestOrganizationsTooling covers the read operations Terraform's
// aws_organizations_organization data source and common tooling call:
// children of the root (every account, paged), no OUs, no policies, no
// trusted service access, no delegated administrators.
func TestOrganizationsTooling(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)

	var children []string
	p := organizations.NewListChildrenPaginator(c, &organizations.ListChildrenInput{ParentId: aws.String(root),
		ChildType: orgtypes.ChildTypeAccount, MaxResults: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ch := range page.Children {
			if ch.Type != orgtypes.ChildTypeAccount {
				t.Errorf("child %+v", ch)
			}
			children = append(children, aws.ToString(ch.Id))
		}
	}
	stored, err := srv.Store.ListAccounts(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, a := range stored {
		want = append(want, a.ID)
	}
	if !slices.Equal(want, children) || pages != len(want) || len(want) < 2 {
		t.Errorf("ListChildren ACCOUNT in %d pages = %v, want %v", pages, children, want)
	}
	ous, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: orgtypes.ChildTypeOrganizationalUnit})
	if err != nil || ous.Children == nil || len(ous.Children) != 0 {
		t.Errorf("ListChildren OU = %+v, %v", ous, err)
	}
	units, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	if err != nil || len(units.OrganizationalUnits) != 0 {
		t.Errorf("ListOrganizationalUnitsForParent = %+v, %v", units, err)
	}
	access, err := c.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	// Identity Center, which Gatehouse is, has trusted access, as on AWS
	// once Identity Center is enabled in an organization.
	if err != nil || len(access.EnabledServicePrincipals) != 1 || aws.ToString(access.EnabledServicePrincipals[0].ServicePrincipal) != "sso.amazonaws.com" {
		t.Errorf("ListAWSServiceAccessForOrganization = %+v, %v", access, err)
	}
	pols, err := c.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
	if err != nil || len(pols.Policies) != 0 {
		t.Errorf("ListPolicies SCP = %+v, %v", pols, err)
	}
	admins, err := c.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String("sso.amazonaws.com")})
	if err != nil || len(admins.DelegatedAdministrators) != 0 {
		t.Errorf("ListDelegatedAdministrators = %+v, %v", admins, err)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"unknown root", func() error {
			_, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-zzzz"), ChildType: orgtypes.ChildTypeAccount})
			return err
		}, "ParentNotFoundException"},
		{"an OU parent", func() error {
			_, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-abcd-12345678")})
			return err
		}, "ParentNotFoundException"},
		{"malformed parent", func() error {
			_, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("111111111111"), ChildType: orgtypes.ChildTypeAccount})
			return err
		}, "InvalidInputException"},
		{"bad child type", func() error {
			_, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: "USER"})
			return err
		}, "InvalidInputException"},
		{"garbage token", func() error {
			_, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: orgtypes.ChildTypeAccount, NextToken: aws.String("garbage")})
			return err
		}, "InvalidInputException"},
		{"bad policy type", func() error {
			_, err := c.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: "NOT_A_POLICY"})
			return err
		}, "InvalidInputException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ae := orgAPIError(t, tc.call()); ae.ErrorCode() != tc.code {
				t.Errorf("error %s: %q, want %s", ae.ErrorCode(), ae.ErrorMessage(), tc.code)
			}
		})
	}

	// A member account's session is refused, and the refusal audited.
	dev := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	_, err = orgs(srv, dev).ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(root), ChildType: orgtypes.ChildTypeAccount})
	if ae := orgAPIError(t, err); ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "organizations:ListChildren") {
		t.Errorf("ListChildren by a member account: %s %q", ae.ErrorCode(), ae.ErrorMessage())
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "ListChildren", "")
}
