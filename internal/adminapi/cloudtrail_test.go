package adminapi_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// trail returns a cloudtrail client of srv signing with creds.
func trail(srv *servertest.Server, creds aws.Credentials) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials(creds)},
		func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func attr(k cttypes.LookupAttributeKey, v string) []cttypes.LookupAttribute {
	return []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}
}

// lookupAll returns every event of in, one page of pageSize at a time.
func lookupAll(t *testing.T, c *cloudtrail.Client, in cloudtrail.LookupEventsInput, pageSize int32) []cttypes.Event {
	t.Helper()
	in.MaxResults = aws.Int32(pageSize)
	var out []cttypes.Event
	pages := cloudtrail.NewLookupEventsPaginator(c, &in)
	for pages.HasMorePages() {
		p, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		if len(p.Events) > int(pageSize) {
			t.Fatalf("page of %d events, asked for %d", len(p.Events), pageSize)
		}
		out = append(out, p.Events...)
	}
	return out
}

func eventIDs(es []cttypes.Event) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, aws.ToString(e.EventId))
	}
	return ids
}

func TestCloudTrailLookupEvents(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	admin := adminCreds(t, srv)
	ct := trail(srv, admin)

	// ed works in dev and tries an admin call he may not make.
	ed := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	if _, err := stsClient(srv, ed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := orgs(srv, ed).ListAccounts(ctx, &organizations.ListAccountsInput{}); err == nil {
		t.Fatal("ed may list accounts")
	}
	// The admin creates an account.
	cr, err := orgs(srv, admin).CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("audit@company.com"), AccountName: aws.String("audit")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := orgs(srv, admin).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cr.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	newAccount := aws.ToString(st.CreateAccountStatus.AccountId)

	// Username: ed's events, newest first, each carrying its record.
	eds := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "ed.developer")}, 50)
	if len(eds) < 2 {
		t.Fatalf("ed's events = %d, want at least 2", len(eds))
	}
	var denied bool
	for i, e := range eds {
		if aws.ToString(e.Username) != "ed.developer" {
			t.Errorf("event %s has Username %q", aws.ToString(e.EventId), aws.ToString(e.Username))
		}
		if i > 0 && e.EventTime.After(*eds[i-1].EventTime) {
			t.Errorf("events are not newest first: %s after %s", e.EventTime, eds[i-1].EventTime)
		}
		var rec struct {
			EventID   string `json:"eventID"`
			EventName string `json:"eventName"`
			ErrorCode string `json:"errorCode"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil || rec.EventID != aws.ToString(e.EventId) || rec.EventName != aws.ToString(e.EventName) {
			t.Errorf("CloudTrailEvent %q does not match event %s (%v)", aws.ToString(e.CloudTrailEvent), aws.ToString(e.EventId), err)
		}
		if rec.EventName == "ListAccounts" && rec.ErrorCode == "AccessDeniedException" && aws.ToString(e.EventSource) == "organizations.amazonaws.com" &&
			strings.HasPrefix(aws.ToString(e.AccessKeyId), "ASIA") {
			denied = true
		}
	}
	if !denied {
		t.Errorf("ed's refused ListAccounts is not among his events: %v", eventIDs(eds))
	}

	// Pagination gives the same events a page at a time.
	paged := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "ed.developer")}, 1)
	if !slices.Equal(eventIDs(paged), eventIDs(eds)) {
		t.Errorf("paged events %v, want %v", eventIDs(paged), eventIDs(eds))
	}

	// Every other attribute key.
	create := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyResourceName, newAccount)}, 50)
	if len(create) != 1 || aws.ToString(create[0].EventName) != "CreateAccount" ||
		!slices.ContainsFunc(create[0].Resources, func(r cttypes.Resource) bool {
			return aws.ToString(r.ResourceType) == "AWS::Organizations::Account" && aws.ToString(r.ResourceName) == newAccount
		}) {
		t.Fatalf("events of the new account = %+v", create)
	}
	one := create[0]
	for _, tc := range []struct {
		key   cttypes.LookupAttributeKey
		value string
		check func(cttypes.Event) bool
	}{
		{cttypes.LookupAttributeKeyEventId, aws.ToString(one.EventId), func(e cttypes.Event) bool { return aws.ToString(e.EventId) == aws.ToString(one.EventId) }},
		{cttypes.LookupAttributeKeyEventName, "CreateAccount", func(e cttypes.Event) bool { return aws.ToString(e.EventName) == "CreateAccount" }},
		{cttypes.LookupAttributeKeyEventSource, "organizations.amazonaws.com", func(e cttypes.Event) bool {
			return aws.ToString(e.EventSource) == "organizations.amazonaws.com"
		}},
		{cttypes.LookupAttributeKeyReadOnly, "true", func(e cttypes.Event) bool { return aws.ToString(e.ReadOnly) == "true" }},
		{cttypes.LookupAttributeKeyReadOnly, "false", func(e cttypes.Event) bool { return aws.ToString(e.ReadOnly) == "false" }},
		{cttypes.LookupAttributeKeyAccessKeyId, ed.AccessKeyID, func(e cttypes.Event) bool { return aws.ToString(e.AccessKeyId) == ed.AccessKeyID }},
		{cttypes.LookupAttributeKeyResourceType, "AWS::Organizations::Account", func(e cttypes.Event) bool {
			return slices.ContainsFunc(e.Resources, func(r cttypes.Resource) bool { return aws.ToString(r.ResourceType) == "AWS::Organizations::Account" })
		}},
	} {
		es := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: attr(tc.key, tc.value)}, 50)
		if len(es) == 0 {
			t.Errorf("%s=%s found nothing", tc.key, tc.value)
		}
		for _, e := range es {
			if !tc.check(e) {
				t.Errorf("%s=%s found %+v", tc.key, tc.value, e)
			}
		}
	}

	// Time range: inclusive bounds; nothing after now.
	at := *one.EventTime
	es := lookupAll(t, ct, cloudtrail.LookupEventsInput{StartTime: aws.Time(at), EndTime: aws.Time(at),
		LookupAttributes: attr(cttypes.LookupAttributeKeyEventId, aws.ToString(one.EventId))}, 50)
	if len(es) != 1 {
		t.Errorf("event at its own time = %d events, want 1", len(es))
	}
	es = lookupAll(t, ct, cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now().Add(time.Hour))}, 50)
	if len(es) != 0 {
		t.Errorf("events from the future = %d", len(es))
	}
}

func TestCloudTrailErrors(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	ct := trail(srv, adminCreds(t, srv))
	first, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	before, _ := srv.Store.ChangeSeq(ctx)
	now := time.Now()
	for _, tc := range []struct {
		name string
		in   cloudtrail.LookupEventsInput
		want error
	}{
		{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: append(attr(cttypes.LookupAttributeKeyUsername, "a"), attr(cttypes.LookupAttributeKeyEventName, "b")...)},
			&cttypes.InvalidLookupAttributesException{}},
		{"unknown key", cloudtrail.LookupEventsInput{LookupAttributes: attr("UserAgent", "x")}, &cttypes.InvalidLookupAttributesException{}},
		{"empty value", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "")}, &cttypes.InvalidLookupAttributesException{}},
		{"ReadOnly maybe", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyReadOnly, "maybe")}, &cttypes.InvalidLookupAttributesException{}},
		{"start after end", cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, &cttypes.InvalidTimeRangeException{}},
		{"MaxResults 0", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, &cttypes.InvalidMaxResultsException{}},
		{"MaxResults 51", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, &cttypes.InvalidMaxResultsException{}},
		{"forged token", cloudtrail.LookupEventsInput{NextToken: aws.String("forged")}, &cttypes.InvalidNextTokenException{}},
		{"token of another query", cloudtrail.LookupEventsInput{NextToken: first.NextToken, LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "x")},
			&cttypes.InvalidNextTokenException{}},
		{"event category", cloudtrail.LookupEventsInput{EventCategory: "data"}, &cttypes.InvalidEventCategoryException{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ct.LookupEvents(ctx, &tc.in)
			ae := orgAPIError(t, err)
			var want interface{ ErrorCode() string }
			if errors.As(tc.want, &want); ae.ErrorCode() != want.ErrorCode() {
				t.Errorf("error %v, want %s", err, want.ErrorCode())
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("change counter moved from %d to %d", before, after)
	}
	ins, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{EventCategory: cttypes.EventCategoryInsight})
	if err != nil || len(ins.Events) != 0 {
		t.Errorf("insight events = %+v, %v; want none", ins, err)
	}
	sourceEvents(t, srv, "cloudtrail.amazonaws.com", "LookupEvents", "InvalidMaxResultsException")
}

func TestCloudTrailAccessDenied(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	reader := grantOnManagement(t, srv, "ed.developer", "OrgReader", "organizations:List*")
	for _, creds := range []aws.Credentials{reader, roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")} {
		_, err := trail(srv, creds).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		ae := orgAPIError(t, err)
		if ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "is not authorized to perform: cloudtrail:LookupEvents on resource: * because ") {
			t.Errorf("LookupEvents as %s = %s %q, want AccessDeniedException", creds.AccessKeyID, ae.ErrorCode(), ae.ErrorMessage())
		}
	}
	sourceEvents(t, srv, "cloudtrail.amazonaws.com", "LookupEvents", "AccessDeniedException")
}
