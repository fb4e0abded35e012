package audit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBuildBoundsWhatRequestsSay(t *testing.T) {
	r := &Recorder{Now: time.Now, NewID: func() string { return "id" }}
	ctx := WithActor(context.Background(), Actor{SourceIP: "192.0.2.1", UserAgent: strings.Repeat("U", 1<<20)})
	list := make([]string, 1000)
	for i := range list {
		list[i] = "item"
	}
	rec, err := r.Build(ctx, Entry{
		Source: SourceOIDC, Name: "RegisterClient",
		Params:   map[string]any{"clientName": strings.Repeat("é", 5000), "redirectUris": list, "n": 3},
		Response: map[string]string{"short": "kept"},
		ErrorMsg: strings.Repeat("m", 5000),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Record) > 4*MaxValue+MaxItems*8+1024 {
		t.Errorf("record is %d bytes", len(rec.Record))
	}
	var ev struct {
		UserAgent         string
		ErrorMessage      string
		RequestParameters struct {
			ClientName   string
			RedirectUris []string
			N            int
		}
		ResponseElements map[string]string
	}
	if err := json.Unmarshal(rec.Record, &ev); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"userAgent": ev.UserAgent, "errorMessage": ev.ErrorMessage, "clientName": ev.RequestParameters.ClientName} {
		if len(s) > MaxValue || !strings.HasSuffix(s, Truncated) {
			t.Errorf("%s: %d bytes, suffix %q", name, len(s), s[max(len(s)-20, 0):])
		}
	}
	if !strings.HasPrefix(ev.RequestParameters.ClientName, "éé") || strings.ToValidUTF8(ev.RequestParameters.ClientName, "?") != ev.RequestParameters.ClientName {
		t.Error("clientName not cut at a UTF-8 boundary")
	}
	if len(ev.RequestParameters.RedirectUris) != MaxItems || ev.RequestParameters.N != 3 || ev.ResponseElements["short"] != "kept" {
		t.Errorf("bounded parameters: %d items, n %d, response %v", len(ev.RequestParameters.RedirectUris), ev.RequestParameters.N, ev.ResponseElements)
	}
}
