package adminapi

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// identityStoreOps returns the identitystore operations (botocore
// identitystore 2020-06-15, all 19) by name. Each is authorized as
// identitystore:<Op> on the identity store's ARN
// (arn:aws:identitystore::<management account>:identitystore/<d-id>) and
// on the ARNs of the users, groups and memberships the request names
// (arn:aws:identitystore:::user/<UserId>, group/<GroupId>,
// membership/<MembershipId>), as the Service Authorization Reference for
// AWS Identity Store lists the required resource types of each action.
// Create* actions name the store only (and CreateGroupMembership the group
// and user it joins): the new resource has no ID yet. Get*Id and ListUsers,
// ListGroups name the store only: what they would name is known only from
// the lookup the authorization comes before.
func (s *Service) identityStoreOps() map[string]operation {
	return map[string]operation{
		"CreateUser": op("identitystore:CreateUser", false, idResources(s, func(*CreateUserInput) ids { return ids{} }), s.isCreateUser),
		"DescribeUser": op("identitystore:DescribeUser", true,
			idResources(s, func(in *DescribeUserInput) ids { return ids{users: []*string{in.UserId}} }), s.isDescribeUser),
		"UpdateUser": op("identitystore:UpdateUser", false,
			idResources(s, func(in *UpdateUserInput) ids { return ids{users: []*string{in.UserId}} }), s.isUpdateUser),
		"DeleteUser": op("identitystore:DeleteUser", false,
			idResources(s, func(in *DeleteUserInput) ids { return ids{users: []*string{in.UserId}} }), s.isDeleteUser),
		"ListUsers":   op("identitystore:ListUsers", true, idResources(s, func(*ListUsersInput) ids { return ids{} }), s.isListUsers),
		"GetUserId":   op("identitystore:GetUserId", true, idResources(s, func(*GetUserIDInput) ids { return ids{} }), s.isGetUserID),
		"CreateGroup": op("identitystore:CreateGroup", false, idResources(s, func(*CreateGroupInput) ids { return ids{} }), s.isCreateGroup),
		"DescribeGroup": op("identitystore:DescribeGroup", true,
			idResources(s, func(in *DescribeGroupInput) ids { return ids{groups: []*string{in.GroupId}} }), s.isDescribeGroup),
		"UpdateGroup": op("identitystore:UpdateGroup", false,
			idResources(s, func(in *UpdateGroupInput) ids { return ids{groups: []*string{in.GroupId}} }), s.isUpdateGroup),
		"DeleteGroup": op("identitystore:DeleteGroup", false,
			idResources(s, func(in *DeleteGroupInput) ids { return ids{groups: []*string{in.GroupId}} }), s.isDeleteGroup),
		"ListGroups": op("identitystore:ListGroups", true, idResources(s, func(*ListGroupsInput) ids { return ids{} }), s.isListGroups),
		"GetGroupId": op("identitystore:GetGroupId", true, idResources(s, func(*GetGroupIDInput) ids { return ids{} }), s.isGetGroupID),
		"CreateGroupMembership": op("identitystore:CreateGroupMembership", false,
			idResources(s, func(in *CreateGroupMembershipInput) ids {
				return ids{groups: []*string{in.GroupId}, users: []*string{in.MemberId.user()}}
			}), s.isCreateGroupMembership),
		"DescribeGroupMembership": op("identitystore:DescribeGroupMembership", true,
			idResources(s, func(in *DescribeGroupMembershipInput) ids { return ids{memberships: []*string{in.MembershipId}} }),
			s.isDescribeGroupMembership),
		"DeleteGroupMembership": op("identitystore:DeleteGroupMembership", false,
			idResources(s, func(in *DeleteGroupMembershipInput) ids { return ids{memberships: []*string{in.MembershipId}} }),
			s.isDeleteGroupMembership),
		"GetGroupMembershipId": op("identitystore:GetGroupMembershipId", true,
			idResources(s, func(in *GetGroupMembershipIDInput) ids {
				return ids{groups: []*string{in.GroupId}, users: []*string{in.MemberId.user()}}
			}), s.isGetGroupMembershipID),
		"ListGroupMemberships": op("identitystore:ListGroupMemberships", true,
			idResources(s, func(in *ListGroupMembershipsInput) ids { return ids{groups: []*string{in.GroupId}} }),
			s.isListGroupMemberships),
		"ListGroupMembershipsForMember": op("identitystore:ListGroupMembershipsForMember", true,
			idResources(s, func(in *ListGroupMembershipsForMemberInput) ids { return ids{users: []*string{in.MemberId.user()}} }),
			s.isListGroupMembershipsForMember),
		"IsMemberInGroups": op("identitystore:IsMemberInGroups", true,
			idResources(s, func(in *IsMemberInGroupsInput) ids {
				out := ids{users: []*string{in.MemberId.user()}}
				// More than the model's 100 is refused by the operation.
				if len(in.GroupIds) <= maxGroupIDs {
					for i := range in.GroupIds {
						out.groups = append(out.groups, &in.GroupIds[i])
					}
				}
				return out
			}), s.isIsMemberInGroups),
	}
}

// maxGroupIDs is the most GroupIds of IsMemberInGroups (the model's
// GroupIds max 100).
const maxGroupIDs = 100

// ids are the user, group and membership IDs a request names, as sent.
type ids struct{ users, groups, memberships []*string }

// idResources authorizes an identitystore action on this deployment's
// identity store ARN and the canonical ARN of each ID of the request that
// ids returns. An ID is turned into an ARN only once it matches the
// model's ResourceId pattern, and in lower case (the hex the server
// generates IDs in; the pattern admits upper case too), so no request
// string reaches a policy as it was sent and no spelling of an ID escapes
// a statement naming it. An absent or malformed ID names no resource: the
// operation refuses it with its ValidationException once authorized on the
// rest (the IdentityStoreId too is checked by the operation, after
// authorization, as AWS does).
func idResources[In any](s *Service, of func(*In) ids) func(context.Context, *awsauth.Caller, *In) ([]string, error) {
	return func(_ context.Context, _ *awsauth.Caller, in *In) ([]string, error) {
		r := of(in)
		out := make([]string, 1, 1+len(r.users)+len(r.groups)+len(r.memberships))
		out[0] = arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)
		add := func(list []*string, format func(string) string) {
			for _, id := range list {
				if id != nil && directory.CheckID("ID", *id) == nil {
					out = append(out, format(strings.ToLower(*id)))
				}
			}
		}
		add(r.users, arn.IdentityStoreUserARN)
		add(r.groups, arn.IdentityStoreGroupARN)
		add(r.memberships, arn.IdentityStoreMembershipARN)
		return out, nil
	}
}

// required is the ValidationException of a required member left out
// (identitystore, sso-admin), worded as AWS words it.
func required(member string) error {
	return fault.Validationf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// checkStoreID checks the request's IdentityStoreId.
func (s *Service) checkStoreID(id *string) error {
	if id == nil {
		return required("identityStoreId")
	}
	return s.Directory.CheckIdentityStore(*id)
}

// resourceID is a required user, group or membership ID of a request:
// its member name as AWS's messages spell it ("userId") and its value.
type resourceID struct {
	member string
	value  *string
}

// checkIDs checks the store ID and then each resource ID.
func (s *Service) checkIDs(storeID *string, ids ...resourceID) error {
	if err := s.checkStoreID(storeID); err != nil {
		return err
	}
	for _, id := range ids {
		if id.value == nil {
			return required(id.member)
		}
		if err := directory.CheckID(strings.ToUpper(id.member[:1])+id.member[1:], *id.value); err != nil {
			return err
		}
	}
	return nil
}

// MemberID is identitystore's MemberId union: a user.
type MemberID struct {
	UserId *string `json:"UserId,omitempty"`
}

// user is the member's UserId as sent, nil if there is none.
func (m *MemberID) user() *string {
	if m == nil {
		return nil
	}
	return m.UserId
}

func (m *MemberID) userID() (string, error) {
	if m == nil {
		return "", required("memberId")
	}
	if m.UserId == nil {
		return "", fault.Validationf("MemberId must hold UserId")
	}
	if err := directory.CheckID("MemberId.UserId", *m.UserId); err != nil {
		return "", err
	}
	return *m.UserId, nil
}

// User is identitystore's User (and DescribeUserResponse): exactly the
// attributes that were set.
type User struct {
	IdentityStoreId   string                     `json:"IdentityStoreId"`
	UserId            string                     `json:"UserId"`
	UserName          string                     `json:"UserName,omitempty"`
	ExternalIds       []store.ExternalID         `json:"ExternalIds,omitempty"`
	Name              *store.UserName            `json:"Name,omitempty"`
	DisplayName       string                     `json:"DisplayName,omitempty"`
	NickName          string                     `json:"NickName,omitempty"`
	ProfileUrl        string                     `json:"ProfileUrl,omitempty"`
	Emails            []store.Email              `json:"Emails,omitempty"`
	Addresses         []store.Address            `json:"Addresses,omitempty"`
	PhoneNumbers      []store.PhoneNumber        `json:"PhoneNumbers,omitempty"`
	UserType          string                     `json:"UserType,omitempty"`
	Title             string                     `json:"Title,omitempty"`
	PreferredLanguage string                     `json:"PreferredLanguage,omitempty"`
	Locale            string                     `json:"Locale,omitempty"`
	Timezone          string                     `json:"Timezone,omitempty"`
	UserStatus        string                     `json:"UserStatus,omitempty"`
	Photos            []store.Photo              `json:"Photos,omitempty"`
	Website           string                     `json:"Website,omitempty"`
	Birthdate         string                     `json:"Birthdate,omitempty"`
	Roles             []store.Role               `json:"Roles,omitempty"`
	CreatedAt         awsproto.Timestamp         `json:"CreatedAt,omitzero"`
	CreatedBy         string                     `json:"CreatedBy,omitempty"`
	UpdatedAt         awsproto.Timestamp         `json:"UpdatedAt,omitzero"`
	UpdatedBy         string                     `json:"UpdatedBy,omitempty"`
	Extensions        map[string]json.RawMessage `json:"Extensions,omitempty"`
}

func (s *Service) userOut(u *store.User) *User {
	p := &u.Profile
	out := &User{
		IdentityStoreId: s.Instance.IdentityStoreID, UserId: u.ID, UserName: u.UserName, ExternalIds: u.ExternalIDs,
		DisplayName: u.DisplayName, NickName: p.NickName, ProfileUrl: p.ProfileURL, Emails: u.Emails,
		Addresses: p.Addresses, PhoneNumbers: p.PhoneNumbers, UserType: p.UserType, Title: p.Title,
		PreferredLanguage: p.PreferredLanguage, Locale: p.Locale, Timezone: p.Timezone, UserStatus: "ENABLED",
		Photos: p.Photos, Website: p.Website, Birthdate: p.Birthdate, Roles: p.Roles,
		CreatedAt: awsproto.Timestamp{Time: u.CreatedAt}, CreatedBy: u.CreatedBy,
		UpdatedAt: awsproto.Timestamp{Time: u.UpdatedAt}, UpdatedBy: u.UpdatedBy, Extensions: p.Extensions,
	}
	if u.Name != (store.UserName{}) {
		out.Name = &u.Name
	}
	if u.Disabled {
		out.UserStatus = "DISABLED"
	}
	return out
}

// CreateUserInput is identitystore's CreateUserRequest.
type CreateUserInput struct {
	IdentityStoreId *string         `json:"IdentityStoreId"`
	UserName        string          `json:"UserName"`
	Name            *store.UserName `json:"Name"`
	DisplayName     string          `json:"DisplayName"`
	NickName        string          `json:"NickName"`
	ProfileUrl      string          `json:"ProfileUrl"`
	// The lists hold pointers so that a null member is told from an
	// empty object and refused (the model's lists are not sparse).
	Emails            []*store.Email             `json:"Emails"`
	Addresses         []*store.Address           `json:"Addresses"`
	PhoneNumbers      []*store.PhoneNumber       `json:"PhoneNumbers"`
	UserType          string                     `json:"UserType"`
	Title             string                     `json:"Title"`
	PreferredLanguage string                     `json:"PreferredLanguage"`
	Locale            string                     `json:"Locale"`
	Timezone          string                     `json:"Timezone"`
	Photos            []*store.Photo             `json:"Photos"`
	Website           string                     `json:"Website"`
	Birthdate         string                     `json:"Birthdate"`
	Roles             []*store.Role              `json:"Roles"`
	Extensions        map[string]json.RawMessage `json:"Extensions"`
}

// nonNull returns the members of a request list, or the
// ValidationException AWS gives a null member ("Member must not be null"):
// the identitystore model's lists are not sparse. member is the list's
// name as the message gives it ("emails").
func nonNull[T any](member string, list []*T) ([]T, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]T, len(list))
	for i, p := range list {
		if p == nil {
			return nil, fault.Validationf("1 validation error detected: Value null at '%s.%d.member' failed to satisfy constraint: Member must not be null",
				member, i+1)
		}
		out[i] = *p
	}
	return out, nil
}

// AuditParams records the store and user name only: the other attributes
// are sensitive in the model.
func (in *CreateUserInput) AuditParams() any {
	return map[string]any{"identityStoreId": in.IdentityStoreId, "userName": in.UserName}
}

// CreateUserOutput is identitystore's CreateUserResponse.
type CreateUserOutput struct {
	IdentityStoreId string `json:"IdentityStoreId"`
	UserId          string `json:"UserId"`
}

func (s *Service) isCreateUser(ctx context.Context, _ *awsauth.Caller, in *CreateUserInput) (*CreateUserOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	d := directory.CreateUserInput{
		UserName: in.UserName, DisplayName: in.DisplayName,
		Profile: store.UserProfile{
			NickName: in.NickName, ProfileURL: in.ProfileUrl,
			UserType: in.UserType, Title: in.Title, PreferredLanguage: in.PreferredLanguage, Locale: in.Locale,
			Timezone: in.Timezone, Website: in.Website, Birthdate: in.Birthdate,
			Extensions: in.Extensions,
		},
	}
	var err error
	if d.Emails, err = nonNull("emails", in.Emails); err != nil {
		return nil, err
	}
	if d.Profile.Addresses, err = nonNull("addresses", in.Addresses); err != nil {
		return nil, err
	}
	if d.Profile.PhoneNumbers, err = nonNull("phoneNumbers", in.PhoneNumbers); err != nil {
		return nil, err
	}
	if d.Profile.Photos, err = nonNull("photos", in.Photos); err != nil {
		return nil, err
	}
	if d.Profile.Roles, err = nonNull("roles", in.Roles); err != nil {
		return nil, err
	}
	if in.Name != nil {
		d.Name = *in.Name
	}
	u, err := s.Directory.CreateUser(ctx, d)
	if err != nil {
		return nil, err
	}
	s.sendInvitation(ctx, u.ID)
	return &CreateUserOutput{IdentityStoreId: s.Instance.IdentityStoreID, UserId: u.ID}, nil
}

// DescribeUserInput is identitystore's DescribeUserRequest.
type DescribeUserInput struct {
	IdentityStoreId *string  `json:"IdentityStoreId"`
	UserId          *string  `json:"UserId"`
	Extensions      []string `json:"Extensions"`
}

func (s *Service) isDescribeUser(ctx context.Context, _ *awsauth.Caller, in *DescribeUserInput) (*User, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"userId", in.UserId}); err != nil {
		return nil, err
	}
	if in.Extensions != nil && len(in.Extensions) == 0 {
		return nil, fault.Validationf("Extensions must name 1 to 10 extensions")
	}
	u, err := s.Directory.GetUser(ctx, *in.UserId)
	if err != nil {
		return nil, err
	}
	if u, err = directory.WithExtensions(u, in.Extensions); err != nil {
		return nil, err
	}
	return s.userOut(u), nil
}

// AttributeOperation is identitystore's AttributeOperation: AttributeValue
// absent or null removes the attribute.
type AttributeOperation struct {
	AttributePath  *string         `json:"AttributePath"`
	AttributeValue json.RawMessage `json:"AttributeValue"`
}

func attributeOps(ops []AttributeOperation) ([]directory.AttributeOp, error) {
	if ops == nil {
		return nil, required("operations")
	}
	out := make([]directory.AttributeOp, len(ops))
	for i, o := range ops {
		if o.AttributePath == nil {
			return nil, required("operations.attributePath")
		}
		out[i] = directory.AttributeOp{Path: *o.AttributePath, Value: o.AttributeValue}
	}
	return out, nil
}

// UpdateUserInput is identitystore's UpdateUserRequest.
type UpdateUserInput struct {
	IdentityStoreId *string              `json:"IdentityStoreId"`
	UserId          *string              `json:"UserId"`
	Operations      []AttributeOperation `json:"Operations"`
}

// AuditParams records the attribute paths, not the (sensitive) values.
func (in *UpdateUserInput) AuditParams() any {
	paths := make([]string, 0, len(in.Operations))
	for _, o := range in.Operations {
		if o.AttributePath != nil {
			paths = append(paths, *o.AttributePath)
		}
	}
	return map[string]any{"identityStoreId": in.IdentityStoreId, "userId": in.UserId, "attributePaths": paths}
}

func (s *Service) isUpdateUser(ctx context.Context, _ *awsauth.Caller, in *UpdateUserInput) (*struct{}, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"userId", in.UserId}); err != nil {
		return nil, err
	}
	ops, err := attributeOps(in.Operations)
	if err != nil {
		return nil, err
	}
	return nil, s.Directory.UpdateUser(ctx, *in.UserId, ops)
}

// DeleteUserInput is identitystore's DeleteUserRequest.
type DeleteUserInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	UserId          *string `json:"UserId"`
}

// isDeleteUser deletes the user, its memberships and assignments; every
// session, token and credential issued to it ends at once (directory
// DeleteUser writes the user's revocation in the same transaction).
func (s *Service) isDeleteUser(ctx context.Context, _ *awsauth.Caller, in *DeleteUserInput) (*struct{}, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"userId", in.UserId}); err != nil {
		return nil, err
	}
	return nil, s.Directory.DeleteUser(ctx, *in.UserId)
}

// Filter is identitystore's (deprecated) Filter.
type Filter struct {
	AttributePath  *string `json:"AttributePath"`
	AttributeValue *string `json:"AttributeValue"`
}

func listInput(max *int32, token *string, filters []Filter) (directory.ListInput, error) {
	li := directory.ListInput{MaxResults: max}
	if token != nil {
		if *token == "" {
			return li, fault.Validationf("NextToken must be 1 to 65535 characters")
		}
		li.NextToken = *token
	}
	for _, f := range filters {
		if f.AttributePath == nil {
			return li, required("filters.attributePath")
		}
		if f.AttributeValue == nil {
			return li, required("filters.attributeValue")
		}
		li.Filters = append(li.Filters, directory.Filter{Path: *f.AttributePath, Value: *f.AttributeValue})
	}
	return li, nil
}

// ListUsersInput is identitystore's ListUsersRequest.
type ListUsersInput struct {
	IdentityStoreId *string  `json:"IdentityStoreId"`
	Extensions      []string `json:"Extensions"`
	MaxResults      *int32   `json:"MaxResults"`
	NextToken       *string  `json:"NextToken"`
	Filters         []Filter `json:"Filters"`
}

// AuditParams leaves out filter values (user names are sensitive).
func (in *ListUsersInput) AuditParams() any {
	return map[string]any{"identityStoreId": in.IdentityStoreId, "maxResults": in.MaxResults, "filtered": len(in.Filters) > 0}
}

// ListUsersOutput is identitystore's ListUsersResponse.
type ListUsersOutput struct {
	Users     []*User `json:"Users"`
	NextToken string  `json:"NextToken,omitempty"`
}

func (s *Service) isListUsers(ctx context.Context, _ *awsauth.Caller, in *ListUsersInput) (*ListUsersOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	li, err := listInput(in.MaxResults, in.NextToken, in.Filters)
	if err != nil {
		return nil, err
	}
	if in.Extensions != nil {
		if _, err := directory.WithExtensions(&store.User{}, in.Extensions); err != nil || len(in.Extensions) == 0 {
			return nil, fault.Validationf("Extensions must name 1 to 10 supported extensions")
		}
	}
	us, next, err := s.Directory.ListUsersPage(ctx, li)
	if err != nil {
		return nil, err
	}
	out := &ListUsersOutput{Users: make([]*User, 0, len(us)), NextToken: next}
	for i := range us {
		u := &us[i]
		if len(in.Extensions) == 0 {
			// us is this call's own: drop the extensions in place
			// instead of copying each user.
			u.Profile.Extensions = nil
		} else if u, err = directory.WithExtensions(u, in.Extensions); err != nil {
			return nil, err
		}
		out.Users = append(out.Users, s.userOut(u))
	}
	return out, nil
}

// ExternalID is identitystore's ExternalId.
type ExternalID struct {
	Issuer *string `json:"Issuer"`
	Id     *string `json:"Id"`
}

// UniqueAttribute is identitystore's UniqueAttribute.
type UniqueAttribute struct {
	AttributePath  *string         `json:"AttributePath"`
	AttributeValue json.RawMessage `json:"AttributeValue"`
}

// AlternateIdentifier is identitystore's AlternateIdentifier union.
type AlternateIdentifier struct {
	ExternalId      *ExternalID      `json:"ExternalId"`
	UniqueAttribute *UniqueAttribute `json:"UniqueAttribute"`
}

func (a *AlternateIdentifier) domain() (directory.AlternateIdentifier, error) {
	var d directory.AlternateIdentifier
	if a == nil {
		return d, required("alternateIdentifier")
	}
	if x := a.ExternalId; x != nil {
		if x.Issuer == nil {
			return d, required("alternateIdentifier.externalId.issuer")
		}
		if x.Id == nil {
			return d, required("alternateIdentifier.externalId.id")
		}
		d.ExternalID = &store.ExternalID{Issuer: *x.Issuer, ID: *x.Id}
	}
	if u := a.UniqueAttribute; u != nil {
		if u.AttributePath == nil {
			return d, required("alternateIdentifier.uniqueAttribute.attributePath")
		}
		if len(u.AttributeValue) == 0 {
			return d, required("alternateIdentifier.uniqueAttribute.attributeValue")
		}
		d.UniqueAttribute = &directory.UniqueAttribute{Path: *u.AttributePath, Value: u.AttributeValue}
	}
	return d, nil
}

// GetUserIDInput is identitystore's GetUserIdRequest.
type GetUserIDInput struct {
	IdentityStoreId     *string              `json:"IdentityStoreId"`
	AlternateIdentifier *AlternateIdentifier `json:"AlternateIdentifier"`
}

// AuditParams records which kind of identifier was looked up, not its
// (sensitive) value.
func (in *GetUserIDInput) AuditParams() any {
	return map[string]any{"identityStoreId": in.IdentityStoreId, "alternateIdentifier": alternateKind(in.AlternateIdentifier)}
}

func alternateKind(a *AlternateIdentifier) string {
	switch {
	case a == nil:
		return ""
	case a.UniqueAttribute != nil && a.UniqueAttribute.AttributePath != nil:
		return *a.UniqueAttribute.AttributePath
	case a.ExternalId != nil:
		return "externalId"
	}
	return ""
}

// GetUserIDOutput is identitystore's GetUserIdResponse.
type GetUserIDOutput struct {
	IdentityStoreId string `json:"IdentityStoreId"`
	UserId          string `json:"UserId"`
}

func (s *Service) isGetUserID(ctx context.Context, _ *awsauth.Caller, in *GetUserIDInput) (*GetUserIDOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	a, err := in.AlternateIdentifier.domain()
	if err != nil {
		return nil, err
	}
	id, err := s.Directory.UserID(ctx, a)
	if err != nil {
		return nil, err
	}
	return &GetUserIDOutput{IdentityStoreId: s.Instance.IdentityStoreID, UserId: id}, nil
}

// Group is identitystore's Group (and DescribeGroupResponse).
type Group struct {
	GroupId         string             `json:"GroupId"`
	DisplayName     string             `json:"DisplayName,omitempty"`
	ExternalIds     []store.ExternalID `json:"ExternalIds,omitempty"`
	Description     string             `json:"Description,omitempty"`
	CreatedAt       awsproto.Timestamp `json:"CreatedAt,omitzero"`
	UpdatedAt       awsproto.Timestamp `json:"UpdatedAt,omitzero"`
	CreatedBy       string             `json:"CreatedBy,omitempty"`
	UpdatedBy       string             `json:"UpdatedBy,omitempty"`
	IdentityStoreId string             `json:"IdentityStoreId"`
}

func (s *Service) groupOut(g *store.Group) *Group {
	return &Group{
		GroupId: g.ID, DisplayName: g.DisplayName, ExternalIds: g.ExternalIDs, Description: g.Description,
		CreatedAt: awsproto.Timestamp{Time: g.CreatedAt}, UpdatedAt: awsproto.Timestamp{Time: g.UpdatedAt},
		CreatedBy: g.CreatedBy, UpdatedBy: g.UpdatedBy, IdentityStoreId: s.Instance.IdentityStoreID,
	}
}

// CreateGroupInput is identitystore's CreateGroupRequest.
type CreateGroupInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	DisplayName     string  `json:"DisplayName"`
	Description     string  `json:"Description"`
}

// CreateGroupOutput is identitystore's CreateGroupResponse.
type CreateGroupOutput struct {
	GroupId         string `json:"GroupId"`
	IdentityStoreId string `json:"IdentityStoreId"`
}

func (s *Service) isCreateGroup(ctx context.Context, _ *awsauth.Caller, in *CreateGroupInput) (*CreateGroupOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	g, err := s.Directory.CreateGroup(ctx, in.DisplayName, in.Description)
	if err != nil {
		return nil, err
	}
	return &CreateGroupOutput{GroupId: g.ID, IdentityStoreId: s.Instance.IdentityStoreID}, nil
}

// DescribeGroupInput is identitystore's DescribeGroupRequest.
type DescribeGroupInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	GroupId         *string `json:"GroupId"`
}

func (s *Service) isDescribeGroup(ctx context.Context, _ *awsauth.Caller, in *DescribeGroupInput) (*Group, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	g, err := s.Directory.GetGroup(ctx, *in.GroupId)
	if err != nil {
		return nil, err
	}
	return s.groupOut(g), nil
}

// UpdateGroupInput is identitystore's UpdateGroupRequest.
type UpdateGroupInput struct {
	IdentityStoreId *string              `json:"IdentityStoreId"`
	GroupId         *string              `json:"GroupId"`
	Operations      []AttributeOperation `json:"Operations"`
}

func (s *Service) isUpdateGroup(ctx context.Context, _ *awsauth.Caller, in *UpdateGroupInput) (*struct{}, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	ops, err := attributeOps(in.Operations)
	if err != nil {
		return nil, err
	}
	return nil, s.Directory.UpdateGroup(ctx, *in.GroupId, ops)
}

// DeleteGroupInput is identitystore's DeleteGroupRequest.
type DeleteGroupInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	GroupId         *string `json:"GroupId"`
}

func (s *Service) isDeleteGroup(ctx context.Context, _ *awsauth.Caller, in *DeleteGroupInput) (*struct{}, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	return nil, s.Directory.DeleteGroup(ctx, *in.GroupId)
}

// ListGroupsInput is identitystore's ListGroupsRequest.
type ListGroupsInput struct {
	IdentityStoreId *string  `json:"IdentityStoreId"`
	MaxResults      *int32   `json:"MaxResults"`
	NextToken       *string  `json:"NextToken"`
	Filters         []Filter `json:"Filters"`
}

// ListGroupsOutput is identitystore's ListGroupsResponse.
type ListGroupsOutput struct {
	Groups    []*Group `json:"Groups"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Service) isListGroups(ctx context.Context, _ *awsauth.Caller, in *ListGroupsInput) (*ListGroupsOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	li, err := listInput(in.MaxResults, in.NextToken, in.Filters)
	if err != nil {
		return nil, err
	}
	gs, next, err := s.Directory.ListGroupsPage(ctx, li)
	if err != nil {
		return nil, err
	}
	out := &ListGroupsOutput{Groups: make([]*Group, 0, len(gs)), NextToken: next}
	for i := range gs {
		out.Groups = append(out.Groups, s.groupOut(&gs[i]))
	}
	return out, nil
}

// GetGroupIDInput is identitystore's GetGroupIdRequest.
type GetGroupIDInput struct {
	IdentityStoreId     *string              `json:"IdentityStoreId"`
	AlternateIdentifier *AlternateIdentifier `json:"AlternateIdentifier"`
}

// GetGroupIDOutput is identitystore's GetGroupIdResponse.
type GetGroupIDOutput struct {
	GroupId         string `json:"GroupId"`
	IdentityStoreId string `json:"IdentityStoreId"`
}

func (s *Service) isGetGroupID(ctx context.Context, _ *awsauth.Caller, in *GetGroupIDInput) (*GetGroupIDOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	a, err := in.AlternateIdentifier.domain()
	if err != nil {
		return nil, err
	}
	id, err := s.Directory.GroupID(ctx, a)
	if err != nil {
		return nil, err
	}
	return &GetGroupIDOutput{GroupId: id, IdentityStoreId: s.Instance.IdentityStoreID}, nil
}

// GroupMembership is identitystore's GroupMembership (and
// DescribeGroupMembershipResponse). A membership never changes, so its
// UpdatedAt/UpdatedBy are its creation's.
type GroupMembership struct {
	IdentityStoreId string             `json:"IdentityStoreId"`
	MembershipId    string             `json:"MembershipId"`
	GroupId         string             `json:"GroupId"`
	MemberId        MemberID           `json:"MemberId"`
	CreatedAt       awsproto.Timestamp `json:"CreatedAt,omitzero"`
	UpdatedAt       awsproto.Timestamp `json:"UpdatedAt,omitzero"`
	CreatedBy       string             `json:"CreatedBy,omitempty"`
	UpdatedBy       string             `json:"UpdatedBy,omitempty"`
}

func (s *Service) membershipOut(m *store.Membership) *GroupMembership {
	uid := m.UserID
	return &GroupMembership{
		IdentityStoreId: s.Instance.IdentityStoreID, MembershipId: m.ID, GroupId: m.GroupID, MemberId: MemberID{UserId: &uid},
		CreatedAt: awsproto.Timestamp{Time: m.CreatedAt}, UpdatedAt: awsproto.Timestamp{Time: m.CreatedAt},
		CreatedBy: m.CreatedBy, UpdatedBy: m.CreatedBy,
	}
}

// CreateGroupMembershipInput is identitystore's CreateGroupMembershipRequest.
type CreateGroupMembershipInput struct {
	IdentityStoreId *string   `json:"IdentityStoreId"`
	GroupId         *string   `json:"GroupId"`
	MemberId        *MemberID `json:"MemberId"`
}

// CreateGroupMembershipOutput is identitystore's
// CreateGroupMembershipResponse.
type CreateGroupMembershipOutput struct {
	MembershipId    string `json:"MembershipId"`
	IdentityStoreId string `json:"IdentityStoreId"`
}

func (s *Service) isCreateGroupMembership(ctx context.Context, _ *awsauth.Caller, in *CreateGroupMembershipInput) (*CreateGroupMembershipOutput, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	uid, err := in.MemberId.userID()
	if err != nil {
		return nil, err
	}
	m, err := s.Directory.AddMember(ctx, *in.GroupId, uid)
	if err != nil {
		return nil, err
	}
	return &CreateGroupMembershipOutput{MembershipId: m.ID, IdentityStoreId: s.Instance.IdentityStoreID}, nil
}

// DescribeGroupMembershipInput is identitystore's
// DescribeGroupMembershipRequest.
type DescribeGroupMembershipInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	MembershipId    *string `json:"MembershipId"`
}

func (s *Service) isDescribeGroupMembership(ctx context.Context, _ *awsauth.Caller, in *DescribeGroupMembershipInput) (*GroupMembership, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"membershipId", in.MembershipId}); err != nil {
		return nil, err
	}
	m, err := s.Directory.GetMembership(ctx, *in.MembershipId)
	if err != nil {
		return nil, err
	}
	return s.membershipOut(m), nil
}

// DeleteGroupMembershipInput is identitystore's DeleteGroupMembershipRequest.
type DeleteGroupMembershipInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	MembershipId    *string `json:"MembershipId"`
}

// isDeleteGroupMembership removes a membership. Role credentials the user
// held through the group's assignments are refused from the next request
// on: their verification checks the user is still entitled, through a cache
// the write invalidates on this replica at once and on others through the
// change counter.
func (s *Service) isDeleteGroupMembership(ctx context.Context, _ *awsauth.Caller, in *DeleteGroupMembershipInput) (*struct{}, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"membershipId", in.MembershipId}); err != nil {
		return nil, err
	}
	return nil, s.Directory.RemoveMember(ctx, *in.MembershipId)
}

// GetGroupMembershipIDInput is identitystore's GetGroupMembershipIdRequest.
type GetGroupMembershipIDInput struct {
	IdentityStoreId *string   `json:"IdentityStoreId"`
	GroupId         *string   `json:"GroupId"`
	MemberId        *MemberID `json:"MemberId"`
}

// GetGroupMembershipIDOutput is identitystore's
// GetGroupMembershipIdResponse.
type GetGroupMembershipIDOutput struct {
	MembershipId    string `json:"MembershipId"`
	IdentityStoreId string `json:"IdentityStoreId"`
}

func (s *Service) isGetGroupMembershipID(ctx context.Context, _ *awsauth.Caller, in *GetGroupMembershipIDInput) (*GetGroupMembershipIDOutput, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	uid, err := in.MemberId.userID()
	if err != nil {
		return nil, err
	}
	m, err := s.Directory.FindMembership(ctx, *in.GroupId, uid)
	if err != nil {
		return nil, err
	}
	return &GetGroupMembershipIDOutput{MembershipId: m.ID, IdentityStoreId: s.Instance.IdentityStoreID}, nil
}

// ListGroupMembershipsInput is identitystore's ListGroupMembershipsRequest.
type ListGroupMembershipsInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	GroupId         *string `json:"GroupId"`
	MaxResults      *int32  `json:"MaxResults"`
	NextToken       *string `json:"NextToken"`
}

// ListGroupMembershipsOutput is identitystore's ListGroupMembershipsResponse
// (and ListGroupMembershipsForMemberResponse).
type ListGroupMembershipsOutput struct {
	GroupMemberships []*GroupMembership `json:"GroupMemberships"`
	NextToken        string             `json:"NextToken,omitempty"`
}

func (s *Service) membershipsOut(ms []store.Membership, next string) *ListGroupMembershipsOutput {
	out := &ListGroupMembershipsOutput{GroupMemberships: make([]*GroupMembership, 0, len(ms)), NextToken: next}
	for i := range ms {
		out.GroupMemberships = append(out.GroupMemberships, s.membershipOut(&ms[i]))
	}
	return out
}

func (s *Service) isListGroupMemberships(ctx context.Context, _ *awsauth.Caller, in *ListGroupMembershipsInput) (*ListGroupMembershipsOutput, error) {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"groupId", in.GroupId}); err != nil {
		return nil, err
	}
	li, err := listInput(in.MaxResults, in.NextToken, nil)
	if err != nil {
		return nil, err
	}
	ms, next, err := s.Directory.ListGroupMembershipsPage(ctx, *in.GroupId, li)
	if err != nil {
		return nil, err
	}
	return s.membershipsOut(ms, next), nil
}

// ListGroupMembershipsForMemberInput is identitystore's
// ListGroupMembershipsForMemberRequest.
type ListGroupMembershipsForMemberInput struct {
	IdentityStoreId *string   `json:"IdentityStoreId"`
	MemberId        *MemberID `json:"MemberId"`
	MaxResults      *int32    `json:"MaxResults"`
	NextToken       *string   `json:"NextToken"`
}

func (s *Service) isListGroupMembershipsForMember(ctx context.Context, _ *awsauth.Caller, in *ListGroupMembershipsForMemberInput) (*ListGroupMembershipsOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	uid, err := in.MemberId.userID()
	if err != nil {
		return nil, err
	}
	li, err := listInput(in.MaxResults, in.NextToken, nil)
	if err != nil {
		return nil, err
	}
	ms, next, err := s.Directory.ListMembershipsForMemberPage(ctx, uid, li)
	if err != nil {
		return nil, err
	}
	return s.membershipsOut(ms, next), nil
}

// IsMemberInGroupsInput is identitystore's IsMemberInGroupsRequest.
type IsMemberInGroupsInput struct {
	IdentityStoreId *string   `json:"IdentityStoreId"`
	MemberId        *MemberID `json:"MemberId"`
	GroupIds        []string  `json:"GroupIds"`
}

// GroupMembershipExistenceResult is identitystore's
// GroupMembershipExistenceResult.
type GroupMembershipExistenceResult struct {
	GroupId          string   `json:"GroupId"`
	MemberId         MemberID `json:"MemberId"`
	MembershipExists bool     `json:"MembershipExists"`
}

// IsMemberInGroupsOutput is identitystore's IsMemberInGroupsResponse.
type IsMemberInGroupsOutput struct {
	Results []GroupMembershipExistenceResult `json:"Results"`
}

func (s *Service) isIsMemberInGroups(ctx context.Context, _ *awsauth.Caller, in *IsMemberInGroupsInput) (*IsMemberInGroupsOutput, error) {
	if err := s.checkStoreID(in.IdentityStoreId); err != nil {
		return nil, err
	}
	uid, err := in.MemberId.userID()
	if err != nil {
		return nil, err
	}
	if in.GroupIds == nil {
		return nil, required("groupIds")
	}
	res, err := s.Directory.IsMemberInGroups(ctx, uid, in.GroupIds)
	if err != nil {
		return nil, err
	}
	out := &IsMemberInGroupsOutput{Results: make([]GroupMembershipExistenceResult, len(res))}
	for i, ok := range res {
		out.Results[i] = GroupMembershipExistenceResult{GroupId: in.GroupIds[i], MemberId: MemberID{UserId: &uid}, MembershipExists: ok}
	}
	return out, nil
}

// sendInvitation invites a user CreateUser just stored, when an invite
// service is configured. A failure does not fail CreateUser: it is logged,
// and recorded as a failed SendInvitation event for the admin to see.
func (s *Service) sendInvitation(ctx context.Context, userID string) {
	if s.Invite == nil {
		return
	}
	// With an identity provider or LDAP directory keeping the passwords,
	// there is no Gatehouse password to choose.
	if c, err := s.Sources.Credentials(ctx); err == nil && !c.Passwords {
		return
	}
	err := s.Invite(ctx, userID)
	if err == nil {
		return
	}
	if s.Log != nil {
		s.Log.Warn("invitation not sent", "request_id", audit.ActorFrom(ctx).RequestID, "user_id", userID, "err", err)
	}
	if s.Events != nil {
		entry := audit.Entry{Source: audit.SourceSignIn, Name: "SendInvitation",
			Params: map[string]string{"userId": userID}, ErrorCode: "InvitationNotSent", ErrorMsg: err.Error()}
		if aerr := s.Events.Record(ctx, entry); aerr != nil && s.Log != nil {
			s.Log.Error("audit of a failed invitation", "user_id", userID, "err", aerr)
		}
	}
}
