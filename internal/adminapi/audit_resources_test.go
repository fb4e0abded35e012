package adminapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// eventResources returns "EventName ResourceType ResourceName" of each
// resource of each event.
func eventResources(es []cttypes.Event) map[string][]string {
	m := map[string][]string{}
	for _, e := range es {
		for _, r := range e.Resources {
			m[aws.ToString(e.EventName)] = append(m[aws.ToString(e.EventName)], aws.ToString(r.ResourceType)+" "+aws.ToString(r.ResourceName))
		}
	}
	return m
}

// A new admin looks up what happened to an account, a permission set and
// a user by ResourceName: every admin write names its resources, as do the
// world file's (seed) events and failed and read-only calls.
func TestCloudTrailResourcesOfAdminEvents(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	admin := adminCreds(t, f.srv)
	ct := trail(f.srv, admin)
	dev := accountID(t, f.srv, "dev")
	psARN := f.createPS("Auditors", "")
	in := types.PrincipalTypeGroup
	gid := f.groupID("Developers")
	if _, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		PrincipalType: in, PrincipalId: aws.String(gid), TargetId: aws.String(dev), TargetType: types.TargetTypeAwsAccount}); err != nil {
		t.Fatal(err)
	}
	del, err := f.c.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		PrincipalType: in, PrincipalId: aws.String(gid), TargetId: aws.String(dev), TargetType: types.TargetTypeAwsAccount})
	if err != nil {
		t.Fatal(err)
	}
	ids := idStore(f.srv, admin)
	u, err := ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: aws.String(f.srv.Instance.IdentityStoreID),
		UserName: aws.String("resource.user"), DisplayName: aws.String("R U"),
		Name: &istypes.Name{GivenName: aws.String("R"), FamilyName: aws.String("U")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(f.srv.Instance.IdentityStoreID), UserId: u.UserId}); err != nil {
		t.Fatal(err)
	}
	// A CloseAccount that fails (the management account cannot be
	// closed) and one that succeeds.
	mgmt := f.srv.Instance.ManagementAccountID
	if _, err := orgs(f.srv, admin).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(mgmt)}); err == nil {
		t.Fatal("closed the management account")
	}
	staging := accountID(t, f.srv, "staging")
	if _, err := orgs(f.srv, admin).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(staging)}); err != nil {
		t.Fatal(err)
	}

	byName := func(name string) map[string][]string {
		return eventResources(lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceName, name)}, 50))
	}
	// The account: the assignment's events, and the world file's.
	got := byName(dev)
	for _, name := range []string{"CreateAccountAssignment", "DeleteAccountAssignment", "CreateAccount"} {
		if !slices.Contains(got[name], "AWS::Organizations::Account "+dev) {
			t.Errorf("%s is not found by ResourceName=%s: %v", name, dev, got)
		}
	}
	if !slices.Contains(got["CreateAccountAssignment"], "AWS::SSO::PermissionSet "+aws.ToString(psARN)) ||
		!slices.Contains(got["CreateAccountAssignment"], "AWS::IdentityStore::Group "+gid) {
		t.Errorf("CreateAccountAssignment resources = %v", got["CreateAccountAssignment"])
	}
	// The permission set: its creation and the assignments.
	got = byName(aws.ToString(psARN))
	for _, name := range []string{"CreatePermissionSet", "CreateAccountAssignment", "DeleteAccountAssignment"} {
		if len(got[name]) == 0 {
			t.Errorf("%s is not found by the permission set's ARN: %v", name, got)
		}
	}
	// The user: its creation and the read.
	got = byName(aws.ToString(u.UserId))
	for _, name := range []string{"CreateUser", "DescribeUser"} {
		if !slices.Contains(got[name], "AWS::IdentityStore::User "+aws.ToString(u.UserId)) {
			t.Errorf("%s is not found by the user's ID: %v", name, got)
		}
	}

	// requestParameters use the API's member names in lowerCamelCase,
	// whether the call failed or succeeded; the write's audit record says
	// what the API answered.
	closes := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "CloseAccount")}, 50)
	if len(closes) != 2 {
		t.Fatalf("CloseAccount events = %d, want 2", len(closes))
	}
	for _, e := range closes {
		var rec struct {
			ErrorCode         string         `json:"errorCode"`
			RequestParameters map[string]any `json:"requestParameters"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
			t.Fatal(err)
		}
		if _, ok := rec.RequestParameters["accountId"]; !ok || len(rec.RequestParameters) != 1 {
			t.Errorf("CloseAccount (error %q) requestParameters = %v, want accountId", rec.ErrorCode, rec.RequestParameters)
		}
		if len(e.Resources) == 0 {
			t.Errorf("CloseAccount (error %q) has no resources", rec.ErrorCode)
		}
	}
	dels := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "DeleteAccountAssignment")}, 50)
	if len(dels) != 1 {
		t.Fatalf("DeleteAccountAssignment events = %d", len(dels))
	}
	var rec struct {
		ResponseElements map[string]string `json:"responseElements"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(dels[0].CloudTrailEvent)), &rec); err != nil {
		t.Fatal(err)
	}
	if want := string(del.AccountAssignmentDeletionStatus.Status); rec.ResponseElements["status"] != want ||
		rec.ResponseElements["requestId"] != aws.ToString(del.AccountAssignmentDeletionStatus.RequestId) {
		t.Errorf("audited response %v, the API answered %s %s", rec.ResponseElements, want, aws.ToString(del.AccountAssignmentDeletionStatus.RequestId))
	}
}
