package e2e

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a minimal web client that keeps cookies and submits the
// plain HTML forms of Gatehouse's pages, as a person with a browser would.
type browser struct {
	t      testing.TB
	client *http.Client
	// Page is the last page loaded: its final URL, status and body.
	URL    *url.URL
	Status int
	Body   string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar}}
}

func (b *browser) load(resp *http.Response, err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("browser: read %s: %v", resp.Request.URL, err)
	}
	b.URL, b.Status, b.Body = resp.Request.URL, resp.StatusCode, string(body)
}

// Get loads a page.
func (b *browser) Get(rawURL string) {
	b.t.Helper()
	b.load(b.client.Get(rawURL))
}

type form struct {
	action string
	method string
	fields url.Values
	// buttons maps a submit button's visible value to its name=value.
	buttons [][2]string
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*("([^"]*)"|'([^']*)')`)
	buttonRe = regexp.MustCompile(`(?is)<button\b([^>]*)>(.*?)</button>`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		v := a[3]
		if a[4] != "" {
			v = a[4]
		}
		m[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return m
}

// forms parses the forms of the current page.
func (b *browser) forms() []form {
	var out []form
	for _, m := range formRe.FindAllStringSubmatch(b.Body, -1) {
		fa := attrs(m[1])
		f := form{action: fa["action"], method: strings.ToUpper(fa["method"]), fields: url.Values{}}
		if f.method == "" {
			f.method = "GET"
		}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			a := attrs(in[2])
			if strings.EqualFold(in[1], "input") && a["type"] != "submit" && a["name"] != "" {
				f.fields.Set(a["name"], a["value"])
			}
		}
		for _, bt := range buttonRe.FindAllStringSubmatch(m[2], -1) {
			a := attrs(bt[1])
			label := strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(bt[2], "")))
			if a["type"] == "" || a["type"] == "submit" {
				f.buttons = append(f.buttons, [2]string{label, a["name"] + "=" + a["value"]})
			}
		}
		for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
			a := attrs(in[2])
			if a["type"] == "submit" {
				f.buttons = append(f.buttons, [2]string{a["value"], a["name"] + "=" + a["value"]})
			}
		}
		out = append(out, f)
	}
	return out
}

// Submit fills the first form on the page that has every field named in
// values (or, with no values, has a button labelled button) and submits it
// by pressing the button whose label contains button ("" presses none).
func (b *browser) Submit(values map[string]string, button string) {
	b.t.Helper()
	for _, f := range b.forms() {
		ok := true
		for name := range values {
			if _, has := f.fields[name]; !has {
				ok = false
			}
		}
		var press string
		if button != "" {
			found := false
			for _, bt := range f.buttons {
				if strings.Contains(strings.ToLower(bt[0]), strings.ToLower(button)) {
					press, found = bt[1], true
					break
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		for k, v := range values {
			f.fields.Set(k, v)
		}
		if name, value, _ := strings.Cut(press, "="); name != "" {
			f.fields.Set(name, value)
		}
		action, err := b.URL.Parse(f.action)
		if err != nil {
			b.t.Fatalf("form action %q: %v", f.action, err)
		}
		if f.method == "GET" {
			action.RawQuery = f.fields.Encode()
			b.Get(action.String())
			return
		}
		req, _ := http.NewRequest("POST", action.String(), strings.NewReader(f.fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.URL.Scheme+"://"+b.URL.Host)
		b.load(b.client.Do(req))
		return
	}
	b.t.Fatalf("no form with fields %v and button %q on %s (status %d):\n%s", keys(values), button, b.URL, b.Status, b.Body)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Text returns the page's visible text, roughly.
func (b *browser) Text() string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRe.ReplaceAllString(b.Body, " "))), " ")
}
