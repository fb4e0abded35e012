package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/web"
)

var (
	fieldRe    = regexp.MustCompile(`(?s)<(input|select|textarea)\b([^>]*)>`)
	labelForRe = regexp.MustCompile(`<label\b[^>]*\bfor="([^"]+)"`)
	idRe       = regexp.MustCompile(`\bid="([^"]+)"`)
	typeRe     = regexp.MustCompile(`\btype="([^"]+)"`)
	hiddenRe   = regexp.MustCompile(`(^|\s)hidden(\s|$)`)
)

// TestEveryFieldHasALabel: every form field a person sees on the portal's
// and the console's pages has a name assistive technology reads out: a
// <label for> naming its id, a <label> around it, or aria-label /
// aria-labelledby (WCAG 2.2 §1.3.1, §4.1.2). Hidden fields and fields
// with the hidden attribute (read-only copies for password managers) need
// none.
func TestEveryFieldHasALabel(t *testing.T) {
	var files []string
	for _, dir := range []string{"templates", "templates/admin"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.html"))
		if err != nil || len(m) == 0 {
			t.Fatalf("templates in %s: %v", dir, err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(raw)
		labelled := map[string]bool{}
		for _, m := range labelForRe.FindAllStringSubmatch(src, -1) {
			labelled[m[1]] = true
		}
		for _, m := range fieldRe.FindAllStringSubmatchIndex(src, -1) {
			attrs := src[m[4]:m[5]]
			if tm := typeRe.FindStringSubmatch(attrs); tm != nil && (tm[1] == "hidden" || tm[1] == "submit") {
				continue
			}
			if hiddenRe.MatchString(attrs) || strings.Contains(attrs, "aria-label") {
				continue
			}
			if id := idRe.FindStringSubmatch(attrs); id != nil && labelled[id[1]] {
				continue
			}
			if labelAround(src, m[0]) {
				continue
			}
			t.Errorf("%s: field without a label: %s", f, src[m[0]:m[1]])
		}
	}
}

// labelAround reports whether the field starting at at is inside an open
// <label> element.
func labelAround(src string, at int) bool {
	open := strings.LastIndex(src[:at], "<label")
	return open >= 0 && !strings.Contains(src[open:at], "</label>")
}

// TestErrorsNameTheirField: a sign-in or registration page shown again
// with an error marks its field invalid and points it at the error (which
// is also a role=alert, read out when the page loads), so a screen reader
// reads the error with the field that has the focus.
func TestErrorsNameTheirField(t *testing.T) {
	p, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	lay := web.Layout{Title: "T", User: "alice"}
	for _, tc := range []struct {
		name  string
		page  web.Page
		field string
	}{
		{"signin username", web.SignIn{Layout: lay, Step: web.StepUserName, Error: "Enter your user name."}, "username"},
		{"signin password", web.SignIn{Layout: lay, Step: web.StepPassword, UserName: "alice", Error: "Incorrect user name or password."}, "password"},
		{"signin mfa", web.SignIn{Layout: lay, Step: web.StepMFA, Error: "That code is not right."}, "code"},
		{"signin enrol", web.SignInEnrol{Layout: lay, Error: "That code is not right."}, "code"},
		{"reauth", web.Reauth{Layout: lay, Error: "Incorrect password."}, "password"},
		{"mfa", web.MFAEnrol{Layout: lay, Error: "That code is not right."}, "code"},
		{"key", web.KeyEnrol{Layout: lay, Key: &web.KeyCeremony{Options: "{}", State: "s"}, Error: "The security key or passkey was not registered."}, "name"},
		{"key without error", web.KeyEnrol{Layout: lay, Key: &web.KeyCeremony{Options: "{}", State: "s"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := p.Render(&b, tc.page); err != nil {
				t.Fatal(err)
			}
			body := b.String()
			if tc.field == "" {
				if strings.Contains(body, "aria-invalid") {
					t.Errorf("a page without an error marks a field invalid:\n%s", body)
				}
				return
			}
			if !strings.Contains(body, `id="form-error" role="alert"`) {
				t.Errorf("no role=alert error with id form-error:\n%s", body)
			}
			field := regexp.MustCompile(`<input id="` + tc.field + `"[^>]*>`).FindString(body)
			if !strings.Contains(field, `aria-invalid="true"`) || !regexp.MustCompile(`aria-describedby="(?:[^"]* )?form-error[ "]`).MatchString(field) {
				t.Errorf("field %s is not marked invalid and described by the error: %s", tc.field, field)
			}
		})
	}
}

// TestAccountButtonsNameTheirRow: on "my sessions and devices", each
// session's and device's button says which one it ends or removes (the
// visible word first, WCAG 2.2 §2.5.3), so a list of buttons read out is
// not "Remove, Remove".
func TestAccountButtonsNameTheirRow(t *testing.T) {
	p, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Render(&b, web.AccountPage{Layout: web.Layout{Title: "T", User: "alice"},
		Sessions: []web.AccountSession{{ID: "a", Created: "2026-12-01 09:00 UTC", Current: true}, {ID: "b", Created: "2026-11-30 08:00 UTC"}},
		Devices:  []web.AccountDevice{{ID: "d1", Type: "TOTP", Name: "Phone"}, {ID: "d2", Type: "WEBAUTHN", Name: "YubiKey"}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`aria-label="Sign out here (this browser)"`,
		`aria-label="End session signed in 2026-11-30 08:00 UTC"`,
		`aria-label="Remove Phone"`,
		`aria-label="Remove YubiKey"`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
}
