package sts

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
)

// TestGetRoleCredentialsListsItsResources: the resources that the typed
// requestParameters and responseElements of a GetRoleCredentials event
// list (audit.Resourcer) are those the recorder finds in their JSON.
func TestGetRoleCredentialsListsItsResources(t *testing.T) {
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r := &audit.Recorder{Now: func() time.Time { return at }, NewID: func() string { return "id" }}
	resp := &grcResponse{AssumedRoleARN: "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/ed",
		RoleCredentials: grcCredentials{AccessKeyID: "ASIAEXAMPLE7KQ2RJ4XA", Expiration: 1}}
	for _, p := range []*grcParams{{AccountID: "111111111111", RoleName: "Admin"}, {RoleName: "Admin"}, {AccountID: "arn:aws:iam::1:role/x"}} {
		typed, err := r.Build(context.Background(), audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", Params: p, Response: resp})
		if err != nil {
			t.Fatal(err)
		}
		// json.RawMessage is no Resourcer: Build decodes it.
		pj, _ := json.Marshal(p)
		rj, _ := json.Marshal(resp)
		decoded, err := r.Build(context.Background(), audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials",
			Params: json.RawMessage(pj), Response: json.RawMessage(rj)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(typed.Resources, decoded.Resources) {
			t.Errorf("%+v: listed %v, decoded %v", p, typed.Resources, decoded.Resources)
		}
		if string(typed.Record) != string(decoded.Record) {
			t.Errorf("%+v: record %s, decoded %s", p, typed.Record, decoded.Record)
		}
	}
}
