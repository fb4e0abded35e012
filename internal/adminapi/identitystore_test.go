package adminapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// idStore returns an identitystore client of srv signing with creds.
func idStore(srv *servertest.Server, creds aws.Credentials) *identitystore.Client {
	return identitystore.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials(creds)},
		func(o *identitystore.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func doc(v any) document.Interface { return document.NewLazyDocument(v) }

// wantAPIError fails unless err is the AWS error code; it returns the
// error for further checks.
func wantAPIError(t *testing.T, what string, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s = %v, want %s", what, err, code)
	}
	return ae
}

func wantNotFound(t *testing.T, what string, err error, typ types.ResourceType, id string) {
	t.Helper()
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ResourceType != typ || aws.ToString(nf.ResourceId) != id || aws.ToString(nf.RequestId) == "" {
		t.Fatalf("%s = %v (%+v), want ResourceNotFoundException %s %s with a RequestId", what, err, nf, typ, id)
	}
}

func wantUnique(t *testing.T, what string, err error) {
	t.Helper()
	var ce *types.ConflictException
	if !errors.As(err, &ce) || ce.Reason != types.ConflictExceptionReasonUniquenessConstraintViolation || aws.ToString(ce.RequestId) == "" {
		t.Fatalf("%s = %v, want ConflictException UNIQUENESS_CONSTRAINT_VIOLATION with a RequestId", what, err)
	}
}

func TestIdentityStoreUsers(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := idStore(srv, adminCreds(t, srv))
	sid := aws.String(srv.Instance.IdentityStoreID)

	full := &identitystore.CreateUserInput{
		IdentityStoreId: sid, UserName: aws.String("ada.lovelace"), DisplayName: aws.String("Ada Lovelace"),
		Name: &types.Name{GivenName: aws.String("Ada"), FamilyName: aws.String("Lovelace"), MiddleName: aws.String("B"),
			Formatted: aws.String("Ada B. Lovelace"), HonorificPrefix: aws.String("Dr"), HonorificSuffix: aws.String("III")},
		NickName: aws.String("ada"), ProfileUrl: aws.String("https://example.com/ada"),
		Emails:       []types.Email{{Value: aws.String("ada@example.com"), Type: aws.String("work"), Primary: true}},
		Addresses:    []types.Address{{StreetAddress: aws.String("12 St James's Square"), Locality: aws.String("London"), Country: aws.String("GB"), Primary: true}},
		PhoneNumbers: []types.PhoneNumber{{Value: aws.String("+44 20 7946 0000"), Type: aws.String("work")}},
		UserType:     aws.String("Employee"), Title: aws.String("Countess"), PreferredLanguage: aws.String("en"),
		Locale: aws.String("en-GB"), Timezone: aws.String("Europe/London"),
		Photos:  []types.Photo{{Value: aws.String("https://example.com/ada.png"), Primary: true}},
		Website: aws.String("https://ada.example"), Birthdate: aws.String("1815-12-10"),
		Roles:      []types.Role{{Value: aws.String("Analyst")}},
		Extensions: map[string]document.Interface{"aws:identitystore:enterprise": doc(map[string]any{"costCenter": "1815"})},
	}
	created, err := c.CreateUser(ctx, full)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if aws.ToString(created.IdentityStoreId) != *sid || !strings.HasPrefix(aws.ToString(created.UserId), (*sid)[2:]+"-") {
		t.Fatalf("CreateUser = %+v", created)
	}
	uid := created.UserId

	// DescribeUser returns exactly what was set (extensions when asked).
	d, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: uid, Extensions: []string{"aws:identitystore:enterprise"}})
	if err != nil {
		t.Fatalf("DescribeUser: %v", err)
	}
	ignore := cmpopts.IgnoreUnexported(types.Name{}, types.Email{}, types.Address{}, types.PhoneNumber{}, types.Photo{}, types.Role{})
	for _, c := range []struct {
		name      string
		want, got any
	}{
		{"UserName", full.UserName, d.UserName}, {"DisplayName", full.DisplayName, d.DisplayName}, {"Name", full.Name, d.Name},
		{"NickName", full.NickName, d.NickName}, {"ProfileUrl", full.ProfileUrl, d.ProfileUrl}, {"Emails", full.Emails, d.Emails},
		{"Addresses", full.Addresses, d.Addresses}, {"PhoneNumbers", full.PhoneNumbers, d.PhoneNumbers},
		{"UserType", full.UserType, d.UserType}, {"Title", full.Title, d.Title}, {"PreferredLanguage", full.PreferredLanguage, d.PreferredLanguage},
		{"Locale", full.Locale, d.Locale}, {"Timezone", full.Timezone, d.Timezone}, {"Photos", full.Photos, d.Photos},
		{"Website", full.Website, d.Website}, {"Birthdate", full.Birthdate, d.Birthdate}, {"Roles", full.Roles, d.Roles},
	} {
		if diff := cmp.Diff(c.want, c.got, ignore); diff != "" {
			t.Errorf("DescribeUser %s (-set +got):\n%s", c.name, diff)
		}
	}
	var ext map[string]string
	if err := d.Extensions["aws:identitystore:enterprise"].UnmarshalSmithyDocument(&ext); err != nil || ext["costCenter"] != "1815" {
		t.Errorf("extension = %v, %v", ext, err)
	}
	if d.UserStatus != types.UserStatusEnabled || d.CreatedAt == nil || d.UpdatedAt == nil || aws.ToString(d.CreatedBy) == "" {
		t.Errorf("DescribeUser metadata = %v %v %v %q", d.UserStatus, d.CreatedAt, d.UpdatedAt, aws.ToString(d.CreatedBy))
	}

	// A user with only the required attributes reads back without
	// anything invented (a clean Terraform plan depends on it).
	bare, err := c.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String("bare"),
		DisplayName: aws.String("Bare"), Name: &types.Name{GivenName: aws.String("B"), FamilyName: aws.String("Are")}})
	if err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: bare.UserId})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name.Formatted != nil || d.Name.MiddleName != nil || d.Emails != nil || d.Addresses != nil || d.NickName != nil ||
		d.Title != nil || d.Locale != nil || d.Extensions != nil || d.ExternalIds != nil || d.Photos != nil || d.Roles != nil {
		t.Errorf("bare user has attributes it was not given: %+v", d)
	}
	// Extensions only when asked for.
	d, _ = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: uid})
	if d.Extensions != nil {
		t.Errorf("DescribeUser without Extensions returned %v", d.Extensions)
	}

	// Uniqueness of user names, ignoring case.
	dup := *full
	dup.UserName = aws.String("ADA.LOVELACE")
	_, err = c.CreateUser(ctx, &dup)
	wantUnique(t, "CreateUser(duplicate)", err)

	// UpdateUser with attribute operations.
	_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: uid, Operations: []types.AttributeOperation{
		{AttributePath: aws.String("displayName"), AttributeValue: doc("Ada King")},
		{AttributePath: aws.String("name.familyName"), AttributeValue: doc("King")},
		{AttributePath: aws.String("emails"), AttributeValue: doc([]map[string]any{{"value": "countess@example.com", "type": "home", "primary": true}})},
		{AttributePath: aws.String("nickName")},
		{AttributePath: aws.String("aws:identitystore:enterprise.department"), AttributeValue: doc("Engines")},
	}})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	d, _ = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: uid, Extensions: []string{"aws:identitystore:enterprise"}})
	if aws.ToString(d.DisplayName) != "Ada King" || aws.ToString(d.Name.FamilyName) != "King" || d.NickName != nil ||
		len(d.Emails) != 1 || aws.ToString(d.Emails[0].Value) != "countess@example.com" || !d.Emails[0].Primary {
		t.Errorf("after UpdateUser: %+v", d)
	}
	ext = nil
	if err := d.Extensions["aws:identitystore:enterprise"].UnmarshalSmithyDocument(&ext); err != nil || ext["department"] != "Engines" || ext["costCenter"] != "1815" {
		t.Errorf("extension after update = %v, %v", ext, err)
	}
	_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: bare.UserId, Operations: []types.AttributeOperation{
		{AttributePath: aws.String("userName"), AttributeValue: doc("Ada.Lovelace")},
	}})
	wantUnique(t, "UpdateUser(userName taken)", err)
	_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: uid, Operations: []types.AttributeOperation{
		{AttributePath: aws.String("noSuchAttribute"), AttributeValue: doc("x")},
	}})
	wantAPIError(t, "UpdateUser(unknown path)", err, "ValidationException")

	// GetUserId: attribute paths compared case-insensitively.
	for _, ua := range []types.UniqueAttribute{
		{AttributePath: aws.String("UserName"), AttributeValue: doc("ada.lovelace")},
		{AttributePath: aws.String("userName"), AttributeValue: doc("Ada.Lovelace")},
		{AttributePath: aws.String("emails.value"), AttributeValue: doc("countess@example.com")},
	} {
		got, err := c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid,
			AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{Value: ua}})
		if err != nil || aws.ToString(got.UserId) != *uid {
			t.Errorf("GetUserId(%s) = %+v, %v", *ua.AttributePath, got, err)
		}
	}
	// And by external ID, which identity sources set.
	if err := srv.Directory.SetUserExternalIDs(ctx, *uid, []store.ExternalID{{Issuer: "https://scim.example", ID: "ada-1"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: &types.AlternateIdentifierMemberExternalId{
		Value: types.ExternalId{Issuer: aws.String("https://scim.example"), Id: aws.String("ada-1")}}})
	if err != nil || aws.ToString(got.UserId) != *uid {
		t.Errorf("GetUserId(external ID) = %+v, %v", got, err)
	}
	d, _ = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: uid})
	if len(d.ExternalIds) != 1 || aws.ToString(d.ExternalIds[0].Id) != "ada-1" {
		t.Errorf("ExternalIds = %+v", d.ExternalIds)
	}
	_, err = c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{
		Value: types.UniqueAttribute{AttributePath: aws.String("userName"), AttributeValue: doc("nobody")}}})
	wantNotFound(t, "GetUserId(nobody)", err, types.ResourceTypeUser, "")

	// ListUsers with the deprecated filter (older Terraform data sources).
	lu, err := c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: sid, Filters: []types.Filter{{AttributePath: aws.String("UserName"), AttributeValue: aws.String("ada.lovelace")}}})
	if err != nil || len(lu.Users) != 1 || aws.ToString(lu.Users[0].UserId) != *uid || lu.NextToken != nil {
		t.Fatalf("ListUsers(filter) = %+v, %v", lu, err)
	}

	// DeleteUser, then everything about the user is gone.
	if _, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: uid}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: uid})
	wantNotFound(t, "DescribeUser(deleted)", err, types.ResourceTypeUser, *uid)
	_, err = c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: uid})
	wantNotFound(t, "DeleteUser(deleted)", err, types.ResourceTypeUser, *uid)
	_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: uid, Operations: []types.AttributeOperation{{AttributePath: aws.String("title"), AttributeValue: doc("x")}}})
	wantNotFound(t, "UpdateUser(deleted)", err, types.ResourceTypeUser, *uid)
	idEvents(t, srv, "DescribeUser", "ResourceNotFoundException")
	idEvents(t, srv, "CreateUser", "")
}

func TestIdentityStoreGroupsAndMemberships(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := idStore(srv, adminCreds(t, srv))
	sid := aws.String(srv.Instance.IdentityStoreID)
	u, err := c.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String("ed2.developer"),
		DisplayName: aws.String("Ed Two"), Name: &types.Name{GivenName: aws.String("Ed"), FamilyName: aws.String("Two")}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String("Platform"), Description: aws.String("Platform team")})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	_, err = c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String("PLATFORM")})
	wantUnique(t, "CreateGroup(duplicate)", err)
	dg, err := c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: g.GroupId})
	if err != nil || aws.ToString(dg.DisplayName) != "Platform" || aws.ToString(dg.Description) != "Platform team" || dg.CreatedAt == nil {
		t.Fatalf("DescribeGroup = %+v, %v", dg, err)
	}
	if _, err := c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: g.GroupId, Operations: []types.AttributeOperation{
		{AttributePath: aws.String("description"), AttributeValue: doc("Platform engineering")},
	}}); err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	_, err = c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: g.GroupId, Operations: []types.AttributeOperation{
		{AttributePath: aws.String("displayName"), AttributeValue: doc("developers")},
	}})
	wantUnique(t, "UpdateGroup(name taken)", err)
	gid, err := c.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: sid, AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{
		Value: types.UniqueAttribute{AttributePath: aws.String("DisplayName"), AttributeValue: doc("platform")}}})
	if err != nil || aws.ToString(gid.GroupId) != *g.GroupId {
		t.Fatalf("GetGroupId = %+v, %v", gid, err)
	}
	lg, err := c.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: sid, Filters: []types.Filter{{AttributePath: aws.String("DisplayName"), AttributeValue: aws.String("Platform")}}})
	if err != nil || len(lg.Groups) != 1 || aws.ToString(lg.Groups[0].Description) != "Platform engineering" {
		t.Fatalf("ListGroups(filter) = %+v, %v", lg, err)
	}
	lg, err = c.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: sid})
	if err != nil || len(lg.Groups) != 2 {
		t.Fatalf("ListGroups = %+v, %v", lg, err)
	}

	member := &types.MemberIdMemberUserId{Value: *u.UserId}
	m, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: g.GroupId, MemberId: member})
	if err != nil {
		t.Fatalf("CreateGroupMembership: %v", err)
	}
	_, err = c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: g.GroupId, MemberId: member})
	wantUnique(t, "CreateGroupMembership(again)", err)
	dm, err := c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: m.MembershipId})
	if err != nil || aws.ToString(dm.GroupId) != *g.GroupId || dm.MemberId.(*types.MemberIdMemberUserId).Value != *u.UserId {
		t.Fatalf("DescribeGroupMembership = %+v, %v", dm, err)
	}
	gm, err := c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: g.GroupId, MemberId: member})
	if err != nil || aws.ToString(gm.MembershipId) != *m.MembershipId {
		t.Fatalf("GetGroupMembershipId = %+v, %v", gm, err)
	}
	lm, err := c.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: g.GroupId})
	if err != nil || len(lm.GroupMemberships) != 1 || aws.ToString(lm.GroupMemberships[0].MembershipId) != *m.MembershipId {
		t.Fatalf("ListGroupMemberships = %+v, %v", lm, err)
	}
	dev, _ := srv.Directory.GetGroupByName(ctx, "Developers")
	if _, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: aws.String(dev.ID), MemberId: member}); err != nil {
		t.Fatal(err)
	}
	lf, err := c.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sid, MemberId: member})
	if err != nil || len(lf.GroupMemberships) != 2 {
		t.Fatalf("ListGroupMembershipsForMember = %+v, %v", lf, err)
	}
	ghost := srv.Instance.IdentityStoreID[2:] + "-00000000-0000-4000-8000-000000000000"
	im, err := c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: member, GroupIds: []string{*g.GroupId, ghost}})
	if err != nil || len(im.Results) != 2 || !im.Results[0].MembershipExists || im.Results[1].MembershipExists || aws.ToString(im.Results[1].GroupId) != ghost {
		t.Fatalf("IsMemberInGroups = %+v, %v", im, err)
	}

	// Errors name the missing thing.
	_, err = c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: aws.String(ghost)})
	wantNotFound(t, "DescribeGroup(missing)", err, types.ResourceTypeGroup, ghost)
	_, err = c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: g.GroupId, MemberId: &types.MemberIdMemberUserId{Value: ghost}})
	wantNotFound(t, "CreateGroupMembership(missing user)", err, types.ResourceTypeUser, ghost)
	_, err = c.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: aws.String(ghost)})
	wantNotFound(t, "ListGroupMemberships(missing group)", err, types.ResourceTypeGroup, ghost)
	_, err = c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: aws.String(ghost)})
	wantNotFound(t, "DescribeGroupMembership(missing)", err, types.ResourceTypeGroupMembership, ghost)
	_, err = c.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: sid, AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{
		Value: types.UniqueAttribute{AttributePath: aws.String("displayName"), AttributeValue: doc("Nobody")}}})
	wantNotFound(t, "GetGroupId(missing)", err, types.ResourceTypeGroup, "")

	if _, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: m.MembershipId}); err != nil {
		t.Fatalf("DeleteGroupMembership: %v", err)
	}
	_, err = c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: m.MembershipId})
	wantNotFound(t, "DeleteGroupMembership(again)", err, types.ResourceTypeGroupMembership, *m.MembershipId)
	if _, err := c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: g.GroupId}); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err = c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: g.GroupId})
	wantNotFound(t, "DeleteGroup(again)", err, types.ResourceTypeGroup, *g.GroupId)
	idEvents(t, srv, "CreateGroupMembership", "ConflictException")
}

func TestIdentityStorePagination(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := idStore(srv, adminCreds(t, srv))
	sid := aws.String(srv.Instance.IdentityStoreID)
	g, err := c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String("Many")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 23 {
		u, err := c.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String(fmt.Sprintf("user%02d", i)),
			DisplayName: aws.String("U"), Name: &types.Name{GivenName: aws.String("U"), FamilyName: aws.String("Ser")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: g.GroupId,
			MemberId: &types.MemberIdMemberUserId{Value: *u.UserId}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	pages := 0
	p := identitystore.NewListUsersPaginator(c, &identitystore.ListUsersInput{IdentityStoreId: sid, MaxResults: aws.Int32(10)})
	var firstToken *string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers page %d: %v", pages, err)
		}
		if pages == 0 {
			firstToken = out.NextToken
		}
		pages++
		for _, u := range out.Users {
			if seen[*u.UserId] {
				t.Fatalf("user %s on two pages", *u.UserId)
			}
			seen[*u.UserId] = true
		}
	}
	if pages != 3 || len(seen) != 25 { // 23 new and the two demo users
		t.Fatalf("ListUsers: %d pages, %d users", pages, len(seen))
	}
	n := 0
	mp := identitystore.NewListGroupMembershipsPaginator(c, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: g.GroupId, MaxResults: aws.Int32(5)})
	for mp.HasMorePages() {
		out, err := mp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.GroupMemberships)
	}
	if n != 23 {
		t.Fatalf("ListGroupMemberships: %d memberships", n)
	}
	// A token is bound to its query.
	_, err = c.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: sid, NextToken: firstToken})
	wantAPIError(t, "ListGroups(users token)", err, "ValidationException")
	_, err = c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: sid, MaxResults: aws.Int32(101)})
	wantAPIError(t, "ListUsers(MaxResults 101)", err, "ValidationException")
}

func TestIdentityStoreAccessDenied(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	sid := aws.String(srv.Instance.IdentityStoreID)
	// ed.developer also gets ReadOnlyAccess in the management account.
	ps, err := srv.Access.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID, PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: mustUserID(t, srv, "ed.developer")}); err != nil {
		t.Fatal(err)
	}
	storeARN := arn.IdentityStoreARN(srv.Instance.ManagementAccountID, srv.Instance.IdentityStoreID)
	before, _ := srv.Store.ChangeSeq(ctx)
	for _, tc := range []struct{ name, account, role, resource, why string }{
		{"PowerUserAccess on a member account", "dev", "PowerUserAccess", storeARN,
			" because only the management account and delegated administrators may call identitystore APIs"},
		{"ReadOnlyAccess on the management account", "management", "ReadOnlyAccess", storeARN,
			" because no identity-based policy allows the identitystore:CreateUser action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := idStore(srv, roleCreds(t, srv, "ed.developer", tc.account, tc.role))
			_, err := c.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String("mallory"),
				DisplayName: aws.String("M"), Name: &types.Name{GivenName: aws.String("M"), FamilyName: aws.String("M")}})
			ae := wantAPIError(t, "CreateUser", err, "AccessDeniedException")
			if !strings.Contains(ae.ErrorMessage(), " is not authorized to perform: identitystore:CreateUser on resource: "+tc.resource+tc.why) ||
				!strings.HasPrefix(ae.ErrorMessage(), "User: arn:aws:sts::") {
				t.Errorf("message = %q", ae.ErrorMessage())
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("refused calls moved the change counter from %d to %d", before, after)
	}
	if _, err := srv.Directory.GetUserByName(ctx, "mallory"); err == nil {
		t.Error("a refused CreateUser created the user")
	}
	idEvents(t, srv, "CreateUser", "AccessDeniedException")
}

func mustUserID(t *testing.T, srv *servertest.Server, name string) string {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestIdentityStoreRemovalEndsCredentials: removing the membership that
// gave a user a role, or deleting the user, refuses the credentials issued
// before at once.
func TestIdentityStoreRemovalEndsCredentials(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := idStore(srv, adminCreds(t, srv))
	sid := aws.String(srv.Instance.IdentityStoreID)
	stsClient := func(creds aws.Credentials) *sts.Client {
		return sts.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials(creds)},
			func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	}
	viaGroup := stsClient(roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess"))
	direct := stsClient(roleCreds(t, srv, "ed.developer", "prod", "ReadOnlyAccess"))
	for _, cl := range []*sts.Client{viaGroup, direct} {
		if _, err := cl.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity before: %v", err)
		}
	}
	edID := mustUserID(t, srv, "ed.developer")
	dev, _ := srv.Directory.GetGroupByName(ctx, "Developers")
	m, err := c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: aws.String(dev.ID), MemberId: &types.MemberIdMemberUserId{Value: edID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: m.MembershipId}); err != nil {
		t.Fatal(err)
	}
	if _, err := viaGroup.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("credentials through the removed membership still work")
	}
	if _, err := direct.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("credentials through a direct assignment stopped with the membership: %v", err)
	}
	if _, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: aws.String(edID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := direct.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("credentials of a deleted user still work")
	}
}

func TestIdentityStoreBadRequests(t *testing.T) {
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	sid := srv.Instance.IdentityStoreID
	ed := mustUserID(t, srv, "ed.developer")
	cases := []struct {
		name, op, body   string
		wantCode, wantRT string
	}{
		{"bad JSON", "CreateUser", `{"IdentityStoreId":`, "SerializationException", ""},
		{"wrong JSON type", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":7}`, "SerializationException", ""},
		{"unknown operation", "CreateUsers", `{}`, "UnknownOperationException", ""},
		{"no IdentityStoreId", "CreateUser", `{"UserName":"x","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"}}`, "ValidationException", ""},
		{"malformed IdentityStoreId", "ListUsers", `{"IdentityStoreId":"store"}`, "ValidationException", ""},
		{"another identity store", "ListUsers", `{"IdentityStoreId":"d-0000000000"}`, "ResourceNotFoundException", "IDENTITY_STORE"},
		{"no display name", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"x","Name":{"GivenName":"x","FamilyName":"x"}}`, "ValidationException", ""},
		{"reserved user name", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"Administrator","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"}}`, "ValidationException", ""},
		{"two emails", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"x","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"Emails":[{"Value":"a@x"},{"Value":"b@x"}]}`, "ValidationException", ""},
		{"empty group name", "CreateGroup", `{"IdentityStoreId":"` + sid + `","DisplayName":""}`, "ValidationException", ""},
		{"malformed UserId", "DescribeUser", `{"IdentityStoreId":"` + sid + `","UserId":"u-1"}`, "ValidationException", ""},
		{"no UserId", "DeleteUser", `{"IdentityStoreId":"` + sid + `"}`, "ValidationException", ""},
		{"no operations", "UpdateUser", `{"IdentityStoreId":"` + sid + `","UserId":"` + ed + `","Operations":[]}`, "ValidationException", ""},
		{"remove a required attribute", "UpdateUser", `{"IdentityStoreId":"` + sid + `","UserId":"` + ed + `","Operations":[{"AttributePath":"displayName"}]}`, "ValidationException", ""},
		{"MaxResults 0", "ListUsers", `{"IdentityStoreId":"` + sid + `","MaxResults":0}`, "ValidationException", ""},
		{"garbage token", "ListGroups", `{"IdentityStoreId":"` + sid + `","NextToken":"abc:def"}`, "ValidationException", ""},
		{"two alternate identifiers", "GetUserId", `{"IdentityStoreId":"` + sid + `","AlternateIdentifier":{"ExternalId":{"Issuer":"i","Id":"x"},"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"ed.developer"}}}`, "ValidationException", ""},
		{"not a unique attribute", "GetUserId", `{"IdentityStoreId":"` + sid + `","AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"title","AttributeValue":"x"}}}`, "ValidationException", ""},
		{"membership without member", "CreateGroupMembership", `{"IdentityStoreId":"` + sid + `","GroupId":"` + ed + `"}`, "ValidationException", ""},
		{"101 group IDs", "IsMemberInGroups", `{"IdentityStoreId":"` + sid + `","MemberId":{"UserId":"` + ed + `"},"GroupIds":[` + strings.Repeat(`"`+ed+`",`, 100) + `"` + ed + `"]}`, "ValidationException", ""},
		{"null address", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"nulladdr","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"Addresses":[null]}`, "ValidationException", ""},
		{"null email", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"nullmail","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"Emails":[null]}`, "ValidationException", ""},
		{"null phone number", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"nullphone","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"PhoneNumbers":[null]}`, "ValidationException", ""},
		{"null photo", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"nullphoto","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"Photos":[null]}`, "ValidationException", ""},
		{"null role", "CreateUser", `{"IdentityStoreId":"` + sid + `","UserName":"nullrole","DisplayName":"x","Name":{"GivenName":"x","FamilyName":"x"},"Roles":[null]}`, "ValidationException", ""},
		{"null address by update", "UpdateUser", `{"IdentityStoreId":"` + sid + `","UserId":"` + ed + `","Operations":[{"AttributePath":"addresses","AttributeValue":[null]}]}`, "ValidationException", ""},
		{"delete a missing group", "DeleteGroup", `{"IdentityStoreId":"` + sid + `","GroupId":"` + ed + `"}`, "ResourceNotFoundException", "GROUP"},
	}
	before, _ := srv.Store.ChangeSeq(t.Context())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSIdentityStore."+tc.op)
			sum := sha256.Sum256([]byte(tc.body))
			if err := v4.NewSigner().SignHTTP(t.Context(), admin, req, hex.EncodeToString(sum[:]), "identitystore", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var body struct {
				Type         string `json:"__type"`
				Message      string `json:"Message"`
				RequestID    string `json:"RequestId"`
				ResourceType string `json:"ResourceType"`
			}
			json.Unmarshal(b, &body)
			if resp.StatusCode != 400 || body.Type != tc.wantCode || body.ResourceType != tc.wantRT || body.Message == "" {
				t.Errorf("status %d, body %s; want 400 %s %s", resp.StatusCode, b, tc.wantCode, tc.wantRT)
			}
			if tc.wantCode != "UnknownOperationException" && tc.wantCode != "SerializationException" && body.RequestID == "" {
				t.Errorf("no RequestId in %s", b)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(t.Context()); after != before {
		t.Errorf("malformed requests moved the change counter from %d to %d", before, after)
	}
	idEvents(t, srv, "CreateUser", "ValidationException")
}

// idEvents fails unless the store holds an identitystore audit event named
// name with the error code code ("" for success).
func idEvents(t *testing.T, srv *servertest.Server, name, code string) {
	t.Helper()
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: name, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Source == "identitystore.amazonaws.com" && e.ErrorCode == code {
			return
		}
	}
	t.Errorf("no identitystore.amazonaws.com event %q with error code %q among %d", name, code, len(evs))
}
