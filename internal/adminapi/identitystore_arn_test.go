package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestIdentityStoreResourceARNs: identitystore actions are authorized on
// the user, group and membership they name as well as on the identity
// store (Service Authorization Reference for AWS Identity Store, resource
// types User, Group and GroupMembership), so a Deny on one user's, group's
// or membership's ARN beside Allow * refuses exactly the calls naming it.
func TestIdentityStoreResourceARNs(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	admin := idStore(srv, adminCreds(t, srv))
	sid := aws.String(srv.Instance.IdentityStoreID)

	newUser := func(name string) string {
		t.Helper()
		out, err := admin.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String(name),
			DisplayName: aws.String(name), Name: &types.Name{GivenName: aws.String(name), FamilyName: aws.String("X")}})
		if err != nil {
			t.Fatal(err)
		}
		return *out.UserId
	}
	newGroup := func(name string) string {
		t.Helper()
		out, err := admin.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.GroupId
	}
	member := func(u string) types.MemberId { return &types.MemberIdMemberUserId{Value: u} }
	newMembership := func(g, u string) string {
		t.Helper()
		out, err := admin.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid,
			GroupId: aws.String(g), MemberId: member(u)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.MembershipId
	}
	deniedUser, okUser, spareUser, joiner := newUser("denied.user"), newUser("ok.user"), newUser("spare.user"), newUser("joiner")
	deniedGroup, okGroup, spareGroup, otherGroup := newGroup("DeniedGroup"), newGroup("OkGroup"), newGroup("SpareGroup"), newGroup("OtherGroup")
	deniedMembership := newMembership(okGroup, okUser)
	okMembership := newMembership(otherGroup, okUser)
	spareMembership := newMembership(otherGroup, spareUser)

	userARN := "arn:aws:identitystore:::user/" + deniedUser
	groupARN := "arn:aws:identitystore:::group/" + deniedGroup
	membershipARN := "arn:aws:identitystore:::membership/" + deniedMembership
	ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "ScopedIdentity"})
	if err != nil {
		t.Fatal(err)
	}
	policyDoc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"},
		map[string]any{"Effect": "Deny", "Action": "identitystore:*", "Resource": []string{userARN, groupARN, membershipARN}},
	}})
	if err := srv.Access.PutInlinePolicy(ctx, ps.ID, string(policyDoc)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID,
		PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: mustUserID(t, srv, "ed.developer")}); err != nil {
		t.Fatal(err)
	}
	c := idStore(srv, roleCreds(t, srv, "ed.developer", "management", "ScopedIdentity"))

	rename := []types.AttributeOperation{{AttributePath: aws.String("displayName"), AttributeValue: doc("Renamed")}}
	groupRename := []types.AttributeOperation{{AttributePath: aws.String("description"), AttributeValue: doc("Renamed")}}
	for _, tc := range []struct {
		name   string
		denied string // the ARN the refusal names; "" means allowed
		call   func() error
	}{
		{"DescribeUser denied", userARN, func() error {
			_, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: aws.String(deniedUser)})
			return err
		}},
		{"UpdateUser denied", userARN, func() error {
			_, err := c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: aws.String(deniedUser), Operations: rename})
			return err
		}},
		{"DeleteUser denied", userARN, func() error {
			_, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: aws.String(deniedUser)})
			return err
		}},
		{"ListGroupMembershipsForMember denied", userARN, func() error {
			_, err := c.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sid, MemberId: member(deniedUser)})
			return err
		}},
		{"IsMemberInGroups denied user", userARN, func() error {
			_, err := c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: member(deniedUser), GroupIds: []string{okGroup}})
			return err
		}},
		{"IsMemberInGroups denied group", groupARN, func() error {
			_, err := c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: member(okUser), GroupIds: []string{okGroup, deniedGroup}})
			return err
		}},
		{"DescribeGroup denied", groupARN, func() error {
			_, err := c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup)})
			return err
		}},
		{"UpdateGroup denied", groupARN, func() error {
			_, err := c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup), Operations: groupRename})
			return err
		}},
		{"DeleteGroup denied", groupARN, func() error {
			_, err := c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup)})
			return err
		}},
		{"ListGroupMemberships denied", groupARN, func() error {
			_, err := c.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup)})
			return err
		}},
		{"CreateGroupMembership denied group", groupARN, func() error {
			_, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup), MemberId: member(joiner)})
			return err
		}},
		{"CreateGroupMembership denied user", userARN, func() error {
			_, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: aws.String(okGroup), MemberId: member(deniedUser)})
			return err
		}},
		{"GetGroupMembershipId denied group", groupARN, func() error {
			_, err := c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup), MemberId: member(okUser)})
			return err
		}},
		{"DescribeGroupMembership denied", membershipARN, func() error {
			_, err := c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(deniedMembership)})
			return err
		}},
		{"DeleteGroupMembership denied", membershipARN, func() error {
			_, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(deniedMembership)})
			return err
		}},

		{"DescribeUser allowed", "", func() error {
			_, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: aws.String(okUser)})
			return err
		}},
		{"UpdateUser allowed", "", func() error {
			_, err := c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: aws.String(okUser), Operations: rename})
			return err
		}},
		{"ListGroupMembershipsForMember allowed", "", func() error {
			_, err := c.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sid, MemberId: member(okUser)})
			return err
		}},
		{"IsMemberInGroups allowed", "", func() error {
			_, err := c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: member(okUser), GroupIds: []string{okGroup, otherGroup}})
			return err
		}},
		{"DescribeGroup allowed", "", func() error {
			_, err := c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: aws.String(okGroup)})
			return err
		}},
		{"UpdateGroup allowed", "", func() error {
			_, err := c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: aws.String(okGroup), Operations: groupRename})
			return err
		}},
		{"ListGroupMemberships allowed", "", func() error {
			_, err := c.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: aws.String(okGroup)})
			return err
		}},
		{"CreateGroupMembership allowed", "", func() error {
			_, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: aws.String(okGroup), MemberId: member(joiner)})
			return err
		}},
		{"GetGroupMembershipId allowed", "", func() error {
			_, err := c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: aws.String(okGroup), MemberId: member(okUser)})
			return err
		}},
		{"DescribeGroupMembership allowed", "", func() error {
			_, err := c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(okMembership)})
			return err
		}},
		{"DeleteGroupMembership allowed", "", func() error {
			_, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(spareMembership)})
			return err
		}},
		{"DeleteGroup allowed", "", func() error {
			_, err := c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: aws.String(spareGroup)})
			return err
		}},
		{"DeleteUser allowed", "", func() error {
			_, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: aws.String(spareUser)})
			return err
		}},
		// The ARN is built from the ID the model's pattern admits, in
		// its canonical lower case: upper-case hex names the same user
		// to the policy, never a way around the Deny.
		{"DescribeUser denied in upper case", "arn:aws:identitystore:::user/" + deniedUser, func() error {
			_, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: aws.String(upperHex(deniedUser))})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.denied == "" {
				if err != nil {
					t.Fatalf("allowed call: %v", err)
				}
				return
			}
			ae := wantAPIError(t, tc.name, err, "AccessDeniedException")
			if !strings.Contains(ae.ErrorMessage(), " on resource: "+tc.denied+" with an explicit deny") {
				t.Errorf("message = %q, want the denied resource %s", ae.ErrorMessage(), tc.denied)
			}
		})
	}
	// The refused calls changed nothing.
	if _, err := admin.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: aws.String(deniedUser)}); err != nil {
		t.Errorf("the denied user is gone: %v", err)
	}
	if _, err := admin.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: aws.String(deniedGroup)}); err != nil {
		t.Errorf("the denied group is gone: %v", err)
	}
	if _, err := admin.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(deniedMembership)}); err != nil {
		t.Errorf("the denied membership is gone: %v", err)
	}
}

// upperHex is id with the hex of its UUID in upper case (its
// "d-xxxxxxxxxx-" store prefix the model's pattern keeps lower case).
func upperHex(id string) string {
	n := len(id) - 36
	return id[:n] + strings.ToUpper(id[n:])
}
