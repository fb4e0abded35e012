package oidc_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStartURLForms checks that StartDeviceAuthorization compares start
// URLs as identifiers: the spellings AWS's portal and people produce for
// the instance's start URL are accepted, other URLs are refused with a
// message naming the instance's start URL.
func TestStartURLForms(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient("sso:account:access")
	tests := []struct {
		name     string
		startURL string
		ok       bool
	}{
		{"exact", "https://d-1234567890.awsapps.com/start", true},
		{"trailing slash", "https://d-1234567890.awsapps.com/start/", true},
		{"slash and empty fragment", "https://d-1234567890.awsapps.com/start/#", true},
		{"empty fragment", "https://d-1234567890.awsapps.com/start#", true},
		{"fragment slash", "https://d-1234567890.awsapps.com/start#/", true},
		{"fragment route", "https://d-1234567890.awsapps.com/start/#/?tab=accounts", true},
		{"upper-case scheme and host", "HTTPS://D-1234567890.AWSAPPS.COM/start", true},
		{"default port", "https://d-1234567890.awsapps.com:443/start", true},
		{"surrounding space", " https://d-1234567890.awsapps.com/start ", true},
		{"other path", "https://d-1234567890.awsapps.com/other", false},
		{"longer path", "https://d-1234567890.awsapps.com/start/x", false},
		{"path case", "https://d-1234567890.awsapps.com/START", false},
		{"other host", "https://d-9999999999.awsapps.com/start", false},
		{"other host with fragment", "https://d-9999999999.awsapps.com/start/#", false},
		{"other port", "https://d-1234567890.awsapps.com:8443/start", false},
		{"plain http", "http://d-1234567890.awsapps.com/start", false},
		{"the portal's address", "https://gatehouse.example/start", false},
		{"not a URL", "d-1234567890", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post("/device_authorization", map[string]string{"clientId": c.id, "clientSecret": c.secret, "startUrl": tt.startURL})
			if tt.ok {
				if r.status != 200 {
					t.Fatalf("StartDeviceAuthorization(%q) = %d %s, want 200", tt.startURL, r.status, r.body)
				}
				return
			}
			var body struct{ Error, Message string }
			if err := json.Unmarshal([]byte(r.body), &body); err != nil {
				t.Fatal(err)
			}
			if r.status != 400 || r.errorType != "InvalidRequestException" || body.Error != "invalid_request" {
				t.Fatalf("StartDeviceAuthorization(%q) = %d %s %s, want 400 InvalidRequestException", tt.startURL, r.status, r.errorType, r.body)
			}
			for _, want := range []string{"https://d-1234567890.awsapps.com/start", "https://gatehouse.example/start", "not the start URL"} {
				if !strings.Contains(body.Message, want) {
					t.Errorf("message %q does not mention %q", body.Message, want)
				}
			}
		})
	}
}
