package audit

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestBuildNamesResources(t *testing.T) {
	r := &Recorder{Now: time.Now, NewID: func() string { return "id" }}
	ps := "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
	for _, tc := range []struct {
		name string
		e    Entry
		want []store.EventResource
	}{
		{"assignment", Entry{Source: SourceSSO, Name: "CreateAccountAssignment", Params: map[string]string{
			"instanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111", "permissionSetArn": ps,
			"targetId": "111111111111", "targetType": "AWS_ACCOUNT", "principalType": "USER", "principalId": "u-1"}},
			[]store.EventResource{res(ResourceSSOInstance, "arn:aws:sso:::instance/ssoins-1111111111111111"), res(ResourcePermissionSet, ps),
				res(ResourceAccount, "111111111111"), res(ResourceUser, "u-1")}},
		{"membership", Entry{Source: SourceIdentityStore, Name: "CreateGroupMembership",
			Params: map[string]string{"identityStoreId": "d-1", "groupId": "g-1", "userId": "u-1"}, Response: map[string]string{"membershipId": "m-1"}},
			[]store.EventResource{res(ResourceUser, "u-1"), res(ResourceGroup, "g-1"), res(ResourceGroupMembership, "m-1")}},
		{"IAM access key", Entry{Source: SourceIAM, Name: "CreateAccessKey", Params: map[string]string{"userName": "ci"},
			Response: map[string]any{"accessKey": map[string]string{"accessKeyId": "AKIAEXAMPLE", "userName": "ci"}}},
			[]store.EventResource{res(ResourceIAMUser, "ci"), res(ResourceIAMAccessKey, "AKIAEXAMPLE")}},
		{"explicit and derived, once each", Entry{Source: SourceOrganizations, Name: "CloseAccount", Params: map[string]string{"accountId": "111111111111"},
			Resources: []store.EventResource{res(ResourceAccount, "111111111111")}},
			[]store.EventResource{res(ResourceAccount, "111111111111")}},
		{"nothing named", Entry{Source: SourceOIDC, Name: "RegisterClient", Params: map[string]string{"clientName": "x"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := r.Build(context.Background(), tc.e)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Clone(rec.Resources)
			slices.SortFunc(got, func(a, b store.EventResource) int { return compare(a.Type+a.Name, b.Type+b.Name) })
			want := slices.Clone(tc.want)
			slices.SortFunc(want, func(a, b store.EventResource) int { return compare(a.Type+a.Name, b.Type+b.Name) })
			if !slices.Equal(got, want) {
				t.Errorf("resources = %v, want %v", got, want)
			}
		})
	}
}

func TestResourceOfARN(t *testing.T) {
	for a, want := range map[string]store.EventResource{
		"arn:aws:organizations::999999999999:account/o-abc/111111111111": res(ResourceAccount, "111111111111"),
		"arn:aws:sso:::account/222222222222":                             res(ResourceAccount, "222222222222"),
		"arn:aws:iam::111111111111:user/ci/deployer":                     res(ResourceIAMUser, "deployer"),
	} {
		if got, ok := ResourceOfARN(a); !ok || got != want {
			t.Errorf("ResourceOfARN(%s) = %v, %v; want %v", a, got, ok, want)
		}
	}
	for _, a := range []string{"*", "arn:aws:iam::111111111111:user/*", "arn:aws:identitystore::1:identitystore/d-1"} {
		if got, ok := ResourceOfARN(a); ok {
			t.Errorf("ResourceOfARN(%s) = %v", a, got)
		}
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func res(typ, name string) store.EventResource { return store.EventResource{Type: typ, Name: name} }

// listed is typed request parameters that list their resources
// (Resourcer): one its JSON does not name, so that a test sees which list
// Build took.
type listed struct {
	AccountID string `json:"accountId"`
	extra     string
}

func (l listed) EventResources() []store.EventResource {
	return []store.EventResource{res(ResourceAccount, l.AccountID), res(ResourceUser, l.extra)}
}

// TestBuildTakesListedResources: a Resourcer's list is taken instead of
// decoding its JSON, unless a name would not come back from the JSON
// unchanged (cut to MaxValue, or not UTF-8), where Build decodes as for
// any other value.
func TestBuildTakesListedResources(t *testing.T) {
	r := &Recorder{Now: time.Now, NewID: func() string { return "id" }}
	long := strings.Repeat("1", MaxValue+1)
	for _, tc := range []struct {
		name string
		p    listed
		want []store.EventResource
	}{
		{"listed", listed{AccountID: "111111111111", extra: "u-1"},
			[]store.EventResource{res(ResourceAccount, "111111111111"), res(ResourceUser, "u-1")}},
		{"too long to list", listed{AccountID: long, extra: "u-1"},
			[]store.EventResource{res(ResourceAccount, clip(long, MaxValue))}},
		{"not UTF-8", listed{AccountID: "\xff1", extra: "u-1"},
			[]store.EventResource{res(ResourceAccount, "\ufffd1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := r.Build(context.Background(), Entry{Source: SourcePortal, Name: "GetRoleCredentials", Params: tc.p})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.Resources, tc.want) {
				t.Errorf("resources = %v, want %v", rec.Resources, tc.want)
			}
		})
	}
}
