package adminapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// cloudTrailOps returns the cloudtrail operations (botocore cloudtrail
// 2013-11-01) by name: LookupEvents over Gatehouse's audit events.
// cloudtrail:LookupEvents has no resource type in the service
// authorization reference, so it is authorized on "*".
func (s *Service) cloudTrailOps() map[string]operation {
	return map[string]operation{
		"LookupEvents": op("cloudtrail:LookupEvents", true, nil, s.lookupEvents),
	}
}

// LookupEvents limits (botocore cloudtrail model: MaxResults 1–50,
// default 50; LookupAttributeValue 1–2000 characters; "currently the
// list can contain only one item").
const (
	lookupDefaultResults = 50
	lookupMaxResults     = 50
	lookupMaxValue       = 2000
)

// LookupAttribute is cloudtrail's LookupAttribute.
type LookupAttribute struct {
	AttributeKey   *string `json:"AttributeKey"`
	AttributeValue *string `json:"AttributeValue"`
}

// LookupEventsInput is cloudtrail's LookupEventsRequest.
type LookupEventsInput struct {
	LookupAttributes []LookupAttribute   `json:"LookupAttributes"`
	StartTime        *awsproto.Timestamp `json:"StartTime"`
	EndTime          *awsproto.Timestamp `json:"EndTime"`
	EventCategory    *string             `json:"EventCategory"`
	MaxResults       *int32              `json:"MaxResults"`
	NextToken        *string             `json:"NextToken"`
}

// TrailResource is cloudtrail's Resource.
type TrailResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

// TrailEvent is cloudtrail's Event: the lookup attributes of an audit
// event and, in CloudTrailEvent, its whole JSON record.
type TrailEvent struct {
	EventId         string             `json:"EventId"`
	EventName       string             `json:"EventName"`
	ReadOnly        string             `json:"ReadOnly"`
	AccessKeyId     string             `json:"AccessKeyId,omitempty"`
	EventTime       awsproto.Timestamp `json:"EventTime"`
	EventSource     string             `json:"EventSource"`
	Username        string             `json:"Username,omitempty"`
	Resources       []TrailResource    `json:"Resources"`
	CloudTrailEvent string             `json:"CloudTrailEvent"`
}

// LookupEventsOutput is cloudtrail's LookupEventsResponse.
type LookupEventsOutput struct {
	Events    []TrailEvent `json:"Events"`
	NextToken *string      `json:"NextToken,omitempty"`
}

func trailError(code, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// lookupFilter turns LookupEvents' parameters into an event filter, newest
// first as CloudTrail returns them. query identifies the parameters for
// the NextToken.
func lookupFilter(in *LookupEventsInput) (f store.EventFilter, query string, err error) {
	f.Newest = true
	switch len(in.LookupAttributes) {
	case 0:
	case 1:
		a := in.LookupAttributes[0]
		if a.AttributeKey == nil || a.AttributeValue == nil {
			return f, "", trailError("InvalidLookupAttributesException", "A lookup attribute needs an AttributeKey and an AttributeValue.")
		}
		v := *a.AttributeValue
		if len(v) < 1 || len(v) > lookupMaxValue {
			return f, "", trailError("InvalidLookupAttributesException", "AttributeValue must be 1 to %d characters.", lookupMaxValue)
		}
		switch *a.AttributeKey {
		case "EventId":
			f.ID = v
		case "EventName":
			f.Name = v
		case "EventSource":
			f.Source = v
		case "Username":
			f.Principal = v
		case "AccessKeyId":
			f.AccessKeyID = v
		case "ResourceType":
			f.ResourceType = v
		case "ResourceName":
			f.ResourceName = v
		case "ReadOnly":
			switch v {
			case "true":
				yes := true
				f.ReadOnly = &yes
			case "false":
				no := false
				f.ReadOnly = &no
			default:
				return f, "", trailError("InvalidLookupAttributesException", "The value of the ReadOnly attribute must be true or false.")
			}
		default:
			return f, "", trailError("InvalidLookupAttributesException",
				"%q is not a lookup attribute key: use EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource or AccessKeyId.", *a.AttributeKey)
		}
		query = *a.AttributeKey + "\x00" + v
	default:
		return f, "", trailError("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
	}
	if in.StartTime != nil {
		f.Start = in.StartTime.Time
	}
	if in.EndTime != nil {
		// EndTime is inclusive ("before or at") and, like the EventTime
		// clients see, of millisecond precision: it takes in its whole
		// millisecond. The filter's End is exclusive.
		f.End = in.EndTime.Time.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	if in.StartTime != nil && in.EndTime != nil && in.StartTime.After(in.EndTime.Time) {
		return f, "", trailError("InvalidTimeRangeException", "The start time must not be after the end time.")
	}
	query = strings.Join([]string{"LookupEvents", query, fmt.Sprint(f.Start.UnixNano()), fmt.Sprint(f.End.UnixNano())}, "\x00")
	return f, query, nil
}

func (s *Service) lookupEvents(ctx context.Context, _ *awsauth.Caller, in *LookupEventsInput) (*LookupEventsOutput, error) {
	size := lookupDefaultResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > lookupMaxResults {
			return nil, trailError("InvalidMaxResultsException", "MaxResults must be between 1 and %d.", lookupMaxResults)
		}
		size = int(*in.MaxResults)
	}
	f, query, err := lookupFilter(in)
	if err != nil {
		return nil, err
	}
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, trailError("InvalidNextTokenException", "The NextToken is not valid, or was issued for other lookup parameters.")
	}
	out := &LookupEventsOutput{Events: []TrailEvent{}}
	if in.EventCategory != nil {
		if *in.EventCategory != "insight" {
			return nil, trailError("InvalidEventCategoryException", "EventCategory must be insight.")
		}
		// Gatehouse records no Insights events.
		return out, nil
	}
	f.Page = store.Page{After: after, Limit: size + 1}
	es, err := s.Store.ListEvents(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(es) > size {
		es = es[:size]
		out.NextToken = pageToken(query, es[size-1].ID)
	}
	for _, e := range es {
		te := TrailEvent{
			EventId: e.ID, EventName: e.Name, ReadOnly: fmt.Sprint(e.ReadOnly), AccessKeyId: e.AccessKeyID,
			EventTime: awsproto.Timestamp{Time: e.Time}, EventSource: e.Source, Username: e.Principal,
			Resources: []TrailResource{}, CloudTrailEvent: string(e.Record),
		}
		for _, r := range e.Resources {
			te.Resources = append(te.Resources, TrailResource{ResourceType: r.Type, ResourceName: r.Name})
		}
		out.Events = append(out.Events, te)
	}
	return out, nil
}
