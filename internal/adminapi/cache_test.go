package adminapi_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// TestPermissionSetReadsSeeOwnWrites: read-only sso-admin calls are served
// from the access cache, and a write on this replica is visible to the very
// next read (read-your-writes), including a deletion.
func TestPermissionSetReadsSeeOwnWrites(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	ps := f.createPS("Cached", "PT2H")
	describe := func() (*types.PermissionSet, error) {
		out, err := f.c.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps})
		if err != nil {
			return nil, err
		}
		return out.PermissionSet, nil
	}
	for range 2 { // the second read comes from the cache
		got, err := describe()
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(got.SessionDuration) != "PT2H" {
			t.Fatalf("SessionDuration = %q, want PT2H", aws.ToString(got.SessionDuration))
		}
	}
	if _, err := f.c.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps,
		SessionDuration: aws.String("PT8H"), Description: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
	got, err := describe()
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.SessionDuration) != "PT8H" || aws.ToString(got.Description) != "after" {
		t.Fatalf("after update: SessionDuration %q, Description %q; want PT8H, after", aws.ToString(got.SessionDuration), aws.ToString(got.Description))
	}

	const policyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	if _, err := f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, ManagedPolicyArn: aws.String(policyARN)}); err != nil {
		t.Fatal(err)
	}
	mp, err := f.c.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps})
	if err != nil {
		t.Fatal(err)
	}
	if len(mp.AttachedManagedPolicies) != 1 || aws.ToString(mp.AttachedManagedPolicies[0].Arn) != policyARN {
		t.Fatalf("managed policies after attach = %+v", mp.AttachedManagedPolicies)
	}

	if _, err := f.c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps}); err != nil {
		t.Fatal(err)
	}
	_, err = describe()
	if nf, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
		t.Fatalf("describe after delete: %v, want ResourceNotFoundException", err)
	} else if want := "Could not find PermissionSet with id "; len(aws.ToString(nf.Message)) < len(want) || aws.ToString(nf.Message)[:len(want)] != want {
		t.Fatalf("message %q, want it to start %q", aws.ToString(nf.Message), want)
	}
}
