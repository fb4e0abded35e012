package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called and arrange (with t.Cleanup) for it to be closed.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Backend", testBackend},
		{"Instance", testInstance},
		{"Keys", testKeys},
		{"Accounts", testAccounts},
		{"CreateAccountStatuses", testCreateAccountStatuses},
		{"DelegatedAdmins", testDelegatedAdmins},
		{"Users", testUsers},
		{"UserNameCaseInsensitive", testUserNameCase},
		{"UserLookups", testUserLookups},
		{"UserExternalIDs", testUserExternalIDs},
		{"Groups", testGroups},
		{"GroupExternalIDs", testGroupExternalIDs},
		{"Memberships", testMemberships},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"DeleteGroupCascades", testDeleteGroupCascades},
		{"PermissionSets", testPermissionSets},
		{"CountPermissionSets", testCountPermissionSets},
		{"ResourceTags", testResourceTags},
		{"Assignments", testAssignments},
		{"ProvisionedRoles", testProvisionedRoles},
		{"Operations", testOperations},
		{"CustomerPolicies", testCustomerPolicies},
		{"CustomerPolicyVersions", testCustomerPolicyVersions},
		{"Events", testEvents},
		{"EventLookup", testEventLookup},
		{"EventResourcesMany", testEventResourcesMany},
		{"AppendEvents", testAppendEvents},
		{"DeleteEventsBefore", testDeleteEventsBefore},
		{"Clients", testClients},
		{"DeviceAuths", testDeviceAuths},
		{"AuthCodes", testAuthCodes},
		{"Grants", testGrants},
		{"Tokens", testTokens},
		{"TokenRotation", testTokenRotation},
		{"RotateToken", testRotateToken},
		{"ReadRefresh", testReadRefresh},
		{"Sessions", testSessions},
		{"Revocations", testRevocations},
		{"HitRate", testHitRate},
		{"HitRateConcurrent", testHitRateConcurrent},
		{"RateCount", testRateCount},
		{"ReserveAttempt", testReserveAttempt},
		{"ReserveAttemptConcurrent", testReserveAttemptConcurrent},
		{"UseMarkers", testUseMarkers},
		{"LinkTokens", testLinkTokens},
		{"LinkTokenTakeConcurrent", testLinkTokenTakeConcurrent},
		{"Outbox", testOutbox},
		{"SCIMTokens", testSCIMTokens},
		{"MFADevices", testMFADevices},
		{"Settings", testSettings},
		{"IdentitySources", testIdentitySources},
		{"AccountLinks", testAccountLinks},
		{"IAMUsers", testIAMUsers},
		{"AccessKeys", testAccessKeys},
		{"OIDCProviders", testOIDCProviders},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteExpiredInBatches", testDeleteExpiredInBatches},
		{"UpdateCommits", testUpdateCommits},
		{"UpdateRollsBack", testUpdateRollsBack},
		{"UpdateContinuesAfterSentinelError", testUpdateContinuesAfterSentinel},
		{"UpdateConcurrentNoLostUpdates", testUpdateConcurrent},
		{"UpdateConcurrentFailuresIsolated", testUpdateConcurrentFailuresIsolated},
		{"ChangeSeqDirectoryWrites", testChangeSeqBumps},
		{"ChangeSeqOtherWrites", testChangeSeqStill},
		{"OnChange", testOnChange},
		{"TimeRoundTrip", testTimeRoundTrip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's reference time: UTC, with nanoseconds, so that any loss
// of precision shows.
var t0 = time.Date(2026, 11, 22, 4, 30, 15, 123456789, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %v", err, target)
	}
}

// wantEqual fails with a diff unless got equals want.
func wantEqual[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func testBackend(t *testing.T, s store.Store) {
	switch b := s.Backend(); b {
	case "sqlite", "postgres":
	default:
		t.Fatalf("Backend() = %q, want sqlite or postgres", b)
	}
}
