package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	cs := []store.Client{
		{ID: "c-1", SecretHash: "h1", Name: "aws-cli", Type: "public", Scopes: []string{"sso:account:access"}, GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}, RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}, IssuerURL: "https://gatehouse.example", IssuedAt: at(0), ExpiresAt: at(time.Hour)},
		{ID: "c-2", SecretHash: "h2", Name: "botocore", Type: "public", IssuedAt: at(0), ExpiresAt: at(2 * time.Hour)},
		{ID: "c-3", SecretHash: "h3", Name: "forever", Type: "public", Scopes: []string{}, IssuedAt: at(0)},
	}
	for _, c := range cs {
		must(t, s.CreateClient(ctx, &c))
	}
	for _, c := range cs {
		got, err := s.GetClient(ctx, c.ID)
		must(t, err)
		wantEqual(t, "client "+c.ID, &c, got)
	}
	_, err := s.GetClient(ctx, "c-missing")
	wantErr(t, err, store.ErrNotFound)
	dup := cs[0]
	wantErr(t, s.CreateClient(ctx, &dup), store.ErrConflict)

	n, err := s.DeleteExpiredClients(ctx, at(90*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredClients deleted %d, want 1", n)
	}
	_, err = s.GetClient(ctx, "c-1")
	wantErr(t, err, store.ErrNotFound)
	n, err = s.DeleteExpiredClients(ctx, at(90*time.Minute))
	must(t, err)
	if n != 0 {
		t.Fatalf("second DeleteExpiredClients deleted %d, want 0", n)
	}
	n, err = s.DeleteExpiredClients(ctx, at(1000*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredClients far in the future deleted %d, want 1 (the client without expiry stays)", n)
	}
	if _, err := s.GetClient(ctx, "c-3"); err != nil {
		t.Fatalf("client without expiry: %v", err)
	}
}

func testDeviceAuths(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := store.DeviceAuth{
		DeviceCodeHash: "dch-1", UserCode: "BCDFGHJK", ClientID: "c-1", StartURL: "https://d-0123456789.awsapps.com/start",
		Scopes: []string{"sso:account:access"}, Status: store.DevicePending, Interval: 5 * time.Second,
		CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
	must(t, s.CreateDeviceAuth(ctx, &d))
	got, err := s.GetDeviceAuth(ctx, "dch-1")
	must(t, err)
	wantEqual(t, "device auth", &d, got)
	got, err = s.GetDeviceAuthByUserCode(ctx, "BCDFGHJK")
	must(t, err)
	wantEqual(t, "device auth by user code", &d, got)
	_, err = s.GetDeviceAuth(ctx, "dch-missing")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetDeviceAuthByUserCode(ctx, "ZZZZZZZZ")
	wantErr(t, err, store.ErrNotFound)

	sameHash := d
	sameHash.UserCode = "LMNPQRST"
	wantErr(t, s.CreateDeviceAuth(ctx, &sameHash), store.ErrConflict)
	sameCode := d
	sameCode.DeviceCodeHash = "dch-2"
	wantErr(t, s.CreateDeviceAuth(ctx, &sameCode), store.ErrConflict)

	d.Status = store.DeviceApproved
	d.UserID = "u-1"
	d.SessionID = "sess-hash"
	d.Interval = 10 * time.Second
	d.LastPolledAt = at(30 * time.Second)
	must(t, s.UpdateDeviceAuth(ctx, &d))
	got, err = s.GetDeviceAuthByUserCode(ctx, "BCDFGHJK")
	must(t, err)
	wantEqual(t, "approved device auth", &d, got)

	missing := d
	missing.DeviceCodeHash = "dch-missing"
	missing.UserCode = "WXYZWXYZ"
	wantErr(t, s.UpdateDeviceAuth(ctx, &missing), store.ErrNotFound)
}

func testAuthCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.AuthCode{
		CodeHash: "ch-1", ClientID: "c-1", RedirectURI: "http://127.0.0.1:53187/oauth/callback", Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scopes: []string{"sso:account:access", "openid"}, UserID: "u-1", SessionID: "sess-hash", CreatedAt: at(0), ExpiresAt: at(5 * time.Minute),
	}
	must(t, s.CreateAuthCode(ctx, &c))
	got, err := s.GetAuthCode(ctx, "ch-1")
	must(t, err)
	wantEqual(t, "auth code", &c, got)
	_, err = s.GetAuthCode(ctx, "ch-missing")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.CreateAuthCode(ctx, &c), store.ErrConflict)

	c.UsedAt = at(time.Minute)
	c.GrantID = "gr-1"
	must(t, s.UpdateAuthCode(ctx, &c))
	got, err = s.GetAuthCode(ctx, "ch-1")
	must(t, err)
	wantEqual(t, "redeemed auth code", &c, got)

	missing := c
	missing.CodeHash = "ch-missing"
	wantErr(t, s.UpdateAuthCode(ctx, &missing), store.ErrNotFound)
}

func testGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	gs := []store.Grant{
		{ID: "gr-2", ClientID: "c-1", UserID: "u-1", SessionID: "s-1", Scopes: []string{"sso:account:access"}, MFA: true, AuthTime: at(0), CreatedAt: at(1), ExpiresAt: at(8 * time.Hour)},
		{ID: "gr-1", ClientID: "c-2", UserID: "u-1", SessionID: "s-2", AuthTime: at(0), CreatedAt: at(2), ExpiresAt: at(8 * time.Hour)},
		{ID: "gr-3", ClientID: "c-1", UserID: "u-2", SessionID: "s-1", AuthTime: at(0), CreatedAt: at(3), ExpiresAt: at(8 * time.Hour)},
	}
	for _, g := range gs {
		must(t, s.CreateGrant(ctx, &g))
	}
	got, err := s.GetGrant(ctx, "gr-2")
	must(t, err)
	wantEqual(t, "grant", &gs[0], got)
	_, err = s.GetGrant(ctx, "gr-missing")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.CreateGrant(ctx, &gs[0]), store.ErrConflict)

	gs[0].RevokedAt = at(time.Hour)
	must(t, s.UpdateGrant(ctx, &gs[0]))
	got, err = s.GetGrant(ctx, "gr-2")
	must(t, err)
	wantEqual(t, "revoked grant", &gs[0], got)
	missing := gs[0]
	missing.ID = "gr-missing"
	wantErr(t, s.UpdateGrant(ctx, &missing), store.ErrNotFound)

	byUser, err := s.ListGrantsByUser(ctx, "u-1")
	must(t, err)
	wantEqual(t, "grants of u-1", gs[:2], byUser)
	bySession, err := s.ListGrantsBySession(ctx, "s-1")
	must(t, err)
	wantEqual(t, "grants of s-1", []store.Grant{gs[0], gs[2]}, bySession)
	none, err := s.ListGrantsByUser(ctx, "u-none")
	must(t, err)
	wantEqual(t, "grants of unknown user", []store.Grant{}, none)
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	access := store.Token{Hash: "th-a", Kind: store.TokenAccess, GrantID: "gr-1", CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	refresh := store.Token{Hash: "th-r", Kind: store.TokenRefresh, GrantID: "gr-1", CreatedAt: at(0), ExpiresAt: at(90 * 24 * time.Hour)}
	must(t, s.CreateToken(ctx, &access))
	must(t, s.CreateToken(ctx, &refresh))
	wantErr(t, s.CreateToken(ctx, &access), store.ErrConflict)
	for _, tok := range []store.Token{access, refresh} {
		got, err := s.GetToken(ctx, tok.Hash)
		must(t, err)
		wantEqual(t, "token", &tok, got)
	}
	_, err := s.GetToken(ctx, "th-missing")
	wantErr(t, err, store.ErrNotFound)

	refresh.UsedAt = at(time.Minute)
	must(t, s.UpdateToken(ctx, &refresh))
	got, err := s.GetToken(ctx, "th-r")
	must(t, err)
	wantEqual(t, "used refresh token", &refresh, got)
	missing := refresh
	missing.Hash = "th-missing"
	wantErr(t, s.UpdateToken(ctx, &missing), store.ErrNotFound)
}

// testTokenRotation covers the writes of a refresh: CreateTokens stores a
// pair or nothing, and MarkTokenUsed marks a token once.
func testTokenRotation(t *testing.T, s store.Store) {
	ctx := t.Context()
	pair := []store.Token{
		{Hash: "th-a2", Kind: store.TokenAccess, GrantID: "gr-1", CreatedAt: at(0), ExpiresAt: at(time.Hour)},
		{Hash: "th-r2", Kind: store.TokenRefresh, GrantID: "gr-1", CreatedAt: at(0), ExpiresAt: at(90 * 24 * time.Hour)},
	}
	must(t, s.CreateTokens(ctx, pair))
	for _, tok := range pair {
		got, err := s.GetToken(ctx, tok.Hash)
		must(t, err)
		wantEqual(t, "token", &tok, got)
	}
	must(t, s.CreateTokens(ctx, nil))
	// One hash already stored: neither of the pair is.
	clash := []store.Token{{Hash: "th-new", Kind: store.TokenAccess, GrantID: "gr-2", CreatedAt: at(0), ExpiresAt: at(time.Hour)}, pair[1]}
	wantErr(t, s.CreateTokens(ctx, clash), store.ErrConflict)
	_, err := s.GetToken(ctx, "th-new")
	wantErr(t, err, store.ErrNotFound)
	// Three tokens take more than one statement.
	three := []store.Token{
		{Hash: "th-3a", Kind: store.TokenAccess, GrantID: "gr-3", CreatedAt: at(0), ExpiresAt: at(time.Hour)},
		{Hash: "th-3b", Kind: store.TokenRefresh, GrantID: "gr-3", CreatedAt: at(0), ExpiresAt: at(time.Hour)},
		{Hash: "th-3c", Kind: store.TokenRefresh, GrantID: "gr-3", CreatedAt: at(0), ExpiresAt: at(time.Hour), UsedAt: at(time.Second)},
	}
	must(t, s.CreateTokens(ctx, three))
	for _, tok := range three {
		got, err := s.GetToken(ctx, tok.Hash)
		must(t, err)
		wantEqual(t, "token", &tok, got)
	}

	marked, err := s.MarkTokenUsed(ctx, "th-r2", at(time.Minute))
	must(t, err)
	if !marked {
		t.Fatal("MarkTokenUsed of an unused token = false")
	}
	want := pair[1]
	want.UsedAt = at(time.Minute)
	got, err := s.GetToken(ctx, "th-r2")
	must(t, err)
	wantEqual(t, "marked token", &want, got)
	// Used already: nothing changes.
	marked, err = s.MarkTokenUsed(ctx, "th-r2", at(2*time.Minute))
	must(t, err)
	if marked {
		t.Fatal("MarkTokenUsed of a used token = true")
	}
	got, err = s.GetToken(ctx, "th-r2")
	must(t, err)
	wantEqual(t, "token marked twice", &want, got)
	marked, err = s.MarkTokenUsed(ctx, "th-missing", at(time.Minute))
	must(t, err)
	if marked {
		t.Fatal("MarkTokenUsed of a missing token = true")
	}

	// Racing in transactions, exactly one caller marks the token.
	const racers = 8
	wins := make(chan bool, racers)
	for range racers {
		go func() {
			var won bool
			err := s.Update(ctx, func(tx store.Tx) error {
				var err error
				won, err = tx.MarkTokenUsed(ctx, "th-a2", at(time.Minute))
				return err
			})
			if err != nil {
				t.Error(err)
			}
			wins <- won
		}()
	}
	n := 0
	for range racers {
		if <-wins {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d of %d racing MarkTokenUsed calls marked the token, want 1", n, racers)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ss := []store.Session{
		{IDHash: "sh-2", UserID: "u-1", MFA: true, AuthTime: at(0), SourceIP: "192.0.2.1", UserAgent: "Mozilla/5.0", CreatedAt: at(1), ExpiresAt: at(8 * time.Hour)},
		{IDHash: "sh-1", UserID: "u-1", AuthTime: at(0), SourceIP: "2001:db8::1", UserAgent: "curl/8", CreatedAt: at(2), ExpiresAt: at(8 * time.Hour)},
		{IDHash: "sh-3", UserID: "u-2", CreatedAt: at(3), ExpiresAt: at(8 * time.Hour)},
	}
	for _, x := range ss {
		must(t, s.CreateSession(ctx, &x))
	}
	wantErr(t, s.CreateSession(ctx, &ss[0]), store.ErrConflict)
	got, err := s.GetSession(ctx, "sh-2")
	must(t, err)
	wantEqual(t, "session", &ss[0], got)
	_, err = s.GetSession(ctx, "sh-missing")
	wantErr(t, err, store.ErrNotFound)

	ss[0].RevokedAt = at(time.Hour)
	must(t, s.UpdateSession(ctx, &ss[0]))
	got, err = s.GetSession(ctx, "sh-2")
	must(t, err)
	wantEqual(t, "revoked session", &ss[0], got)
	missing := ss[0]
	missing.IDHash = "sh-missing"
	wantErr(t, s.UpdateSession(ctx, &missing), store.ErrNotFound)

	byUser, err := s.ListSessionsByUser(ctx, "u-1")
	must(t, err)
	wantEqual(t, "sessions of u-1", ss[:2], byUser)
	none, err := s.ListSessionsByUser(ctx, "u-none")
	must(t, err)
	wantEqual(t, "sessions of unknown user", []store.Session{}, none)
}

// testRotateToken covers RotateToken: it marks the token and stores the
// successors and the event together, writes nothing for a token it does
// not mark, leaves the token unmarked when a write fails, and lets exactly
// one of many racing callers mark a token.
func testRotateToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	parent := store.Token{Hash: "rt-r1", Kind: store.TokenRefresh, GrantID: "gr-rot", CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	must(t, s.CreateToken(ctx, &parent))
	pair := func(n string) []store.Token {
		return []store.Token{
			{Hash: "rt-a" + n, Kind: store.TokenAccess, GrantID: "gr-rot", CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour)},
			{Hash: "rt-r" + n, Kind: store.TokenRefresh, GrantID: "gr-rot", CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour)},
		}
	}
	event := func(id string) *store.EventRecord {
		return &store.EventRecord{ID: id, Time: at(time.Minute), Source: "sso.amazonaws.com", Name: "CreateToken", Principal: "u-rot", Record: []byte(`{}`)}
	}
	events := func() map[string]bool {
		es, err := s.ListEvents(ctx, store.EventFilter{Name: "CreateToken"})
		must(t, err)
		ids := map[string]bool{}
		for _, e := range es {
			ids[e.ID] = true
		}
		return ids
	}
	wantToken := func(hash string, want bool) {
		t.Helper()
		_, err := s.GetToken(ctx, hash)
		if want {
			must(t, err)
		} else {
			wantErr(t, err, store.ErrNotFound)
		}
	}

	// A successor hash already stored: nothing is written, the parent stays
	// unused.
	must(t, s.CreateToken(ctx, &store.Token{Hash: "rt-r9", Kind: store.TokenRefresh, GrantID: "gr-other", CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	clash := pair("9")
	marked, err := s.RotateToken(ctx, parent.Hash, at(time.Minute), clash, event("ev-rot-0"))
	wantErr(t, err, store.ErrConflict)
	if marked {
		t.Fatal("RotateToken that failed reported the token marked")
	}
	got, err := s.GetToken(ctx, parent.Hash)
	must(t, err)
	wantEqual(t, "token of a failed rotation", &parent, got)
	wantToken("rt-a9", false)
	if events()["ev-rot-0"] {
		t.Fatal("failed RotateToken appended its event")
	}

	// Unused: marked, with the successors and the event.
	next := pair("2")
	marked, err = s.RotateToken(ctx, parent.Hash, at(time.Minute), next, event("ev-rot-1"))
	must(t, err)
	if !marked {
		t.Fatal("RotateToken of an unused token = false")
	}
	want := parent
	want.UsedAt = at(time.Minute)
	got, err = s.GetToken(ctx, parent.Hash)
	must(t, err)
	wantEqual(t, "rotated token", &want, got)
	for _, tok := range next {
		got, err := s.GetToken(ctx, tok.Hash)
		must(t, err)
		wantEqual(t, "successor", &tok, got)
	}
	if !events()["ev-rot-1"] {
		t.Fatal("RotateToken did not append its event")
	}

	// Used already, or missing: nothing is written.
	for _, hash := range []string{parent.Hash, "rt-missing"} {
		marked, err = s.RotateToken(ctx, hash, at(2*time.Minute), pair("3"), event("ev-rot-2"))
		must(t, err)
		if marked {
			t.Fatalf("RotateToken of %s = true", hash)
		}
		wantToken("rt-a3", false)
		if events()["ev-rot-2"] {
			t.Fatalf("RotateToken of %s appended its event", hash)
		}
	}
	got, err = s.GetToken(ctx, parent.Hash)
	must(t, err)
	wantEqual(t, "token rotated twice", &want, got)

	// Racing, exactly one caller marks the token and stores its successors.
	const racers = 8
	type result struct {
		n      int
		marked bool
	}
	results := make(chan result, racers)
	for i := range racers {
		go func() {
			n := fmt.Sprint(10 + i)
			marked, err := s.RotateToken(ctx, "rt-r2", at(3*time.Minute), pair(n), event("ev-race-"+n))
			if err != nil {
				t.Error(err)
			}
			results <- result{10 + i, marked}
		}()
	}
	winners := 0
	for range racers {
		r := <-results
		if r.marked {
			winners++
		}
		wantToken(fmt.Sprint("rt-a", r.n), r.marked)
		wantToken(fmt.Sprint("rt-r", r.n), r.marked)
	}
	if winners != 1 {
		t.Fatalf("%d of %d racing RotateToken calls marked the token, want 1", winners, racers)
	}
}

// testReadRefresh covers ReadRefresh: the token, its grant and the rate
// counts as GetToken, GetGrant and RateCount read them, ErrNotFound for a
// missing token or grant, and the bound on windows.
func testReadRefresh(t *testing.T, s store.Store) {
	ctx := t.Context()
	g := store.Grant{ID: "gr-read", ClientID: "c-read", UserID: "u-read", SessionID: "sh-read", Scopes: []string{"sso:account:access"},
		MFA: true, AuthTime: at(-time.Minute), CreatedAt: at(0), ExpiresAt: at(8 * time.Hour)}
	must(t, s.CreateGrant(ctx, &g))
	tok := store.Token{Hash: "rt-read", Kind: store.TokenRefresh, GrantID: g.ID, CreatedAt: at(0), ExpiresAt: at(8 * time.Hour)}
	must(t, s.CreateToken(ctx, &tok))
	must(t, s.CreateToken(ctx, &store.Token{Hash: "rt-orphan", Kind: store.TokenRefresh, GrantID: "gr-gone", CreatedAt: at(0), ExpiresAt: at(time.Hour)}))

	now := at(90 * time.Second)
	rates := []store.RateWindow{{Key: "fail:m", Window: time.Minute}, {Key: "fail:h", Window: time.Hour}, {Key: "fail:none", Window: time.Minute}}
	for range 3 {
		_, err := s.HitRate(ctx, "fail:m", time.Minute, now)
		must(t, err)
	}
	_, err := s.HitRate(ctx, "fail:m", time.Minute, now.Add(-time.Minute)) // the window before
	must(t, err)
	_, err = s.HitRate(ctx, "fail:h", time.Hour, now)
	must(t, err)

	rr, err := s.ReadRefresh(ctx, tok.Hash, rates, now)
	must(t, err)
	wantEqual(t, "token", tok, rr.Token)
	gotGrant, err := s.GetGrant(ctx, g.ID)
	must(t, err)
	wantEqual(t, "grant", *gotGrant, rr.Grant)
	var want []int
	for _, r := range rates {
		n, err := s.RateCount(ctx, r.Key, r.Window, now)
		must(t, err)
		want = append(want, n)
	}
	wantEqual(t, "counts", []int{3, 1, 0}, want)
	wantEqual(t, "counts read with the token", want, rr.Counts)

	// A used token reads as used; no windows, no counts.
	used, err := s.MarkTokenUsed(ctx, tok.Hash, at(2*time.Minute))
	must(t, err)
	if !used {
		t.Fatal("MarkTokenUsed = false")
	}
	rr, err = s.ReadRefresh(ctx, tok.Hash, nil, now)
	must(t, err)
	tok.UsedAt = at(2 * time.Minute)
	wantEqual(t, "used token", tok, rr.Token)
	wantEqual(t, "no counts", []int{}, rr.Counts)

	for _, hash := range []string{"rt-missing", "rt-orphan"} {
		_, err := s.ReadRefresh(ctx, hash, rates, now)
		wantErr(t, err, store.ErrNotFound)
	}
	if _, err := s.ReadRefresh(ctx, tok.Hash, make([]store.RateWindow, store.MaxRefreshRates+1), now); err == nil {
		t.Fatalf("ReadRefresh of %d windows: no error", store.MaxRefreshRates+1)
	}
}
