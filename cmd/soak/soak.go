package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

// region is the children's home region, which SigV4 requests must name.
const region = "us-east-1"

// maxInFlight bounds the requests of one kind in flight; a tick that
// finds them all busy is counted as skipped, a failure of the run.
const maxInFlight = 64

// poolSize is how many token chains (device logins) the refresh and
// credential operations share; newer logins replace the oldest.
const poolSize = 32

// The operations, in the report's order.
const (
	opSignIn        = "sign-in (2 form posts)"
	opDeviceStart   = "StartDeviceAuthorization"
	opDeviceApprove = "device approval (POST /device)"
	opDeviceToken   = "CreateToken (device code)"
	opRefresh       = "CreateToken (refresh)"
	opCredentials   = "GetRoleCredentials"
	opSigV4         = "STS GetCallerIdentity (SigV4)"
	opCreateUser    = "identitystore CreateUser"
	opCreateGroup   = "identitystore CreateGroup"
	opMembership    = "identitystore CreateGroupMembership"
	opDeleteUser    = "identitystore DeleteUser"
	opDeleteGroup   = "identitystore DeleteGroup"
)

var opOrder = []string{opSignIn, opDeviceStart, opDeviceApprove, opDeviceToken, opRefresh, opCredentials, opSigV4,
	opCreateUser, opCreateGroup, opMembership, opDeleteUser, opDeleteGroup}

// roles are the demo users' roles the token chains ask credentials for.
var roles = map[string]struct{ account, role string }{
	"alice@company.com": {"111111111111", "AdministratorAccess"},
	"ed.developer":      {"111111111111", "ViewOnlyAccess"},
}

// chain is one CLI's login: its registration and its latest tokens. A
// chain is used by one operation at a time (it is taken from the pool).
type chain struct {
	user string
	tok  loadkit.Tokens
}

// roleCreds are role credentials and an STS client signing with them.
type roleCreds struct {
	creds aws.Credentials
	sts   *sts.Client
}

// soaker holds a run's children, clients and shared state.
type soaker struct {
	bases     []string
	api       *http.Client // sso-oidc, portal API; no cookies
	tr        *http.Transport
	approvers []*http.Client // signed-in browsers, one per demo user
	clients   []loadkit.Tokens
	pool      chan *chain
	credsMu   sync.Mutex
	creds     []*roleCreds // the latest role credentials, newest last
	ids       *identitystore.Client
	storeID   string
	stats     map[string]*opStats
	seq       atomic.Int64 // source addresses and names
}

// soak starts the children, runs the load for c.duration and returns the
// figures.
func soak(ctx context.Context, c config, log io.Writer) (*report, error) {
	r := &report{config: c, loadStart: loadkit.Loadavg()}
	var children []*loadkit.Child
	opts := loadkit.ServeOptions{Bin: c.bin, Demo: true, Args: []string{"-region", region}}
	if c.postgres != "" {
		u, drop, err := loadkit.PostgresSchema(ctx, c.postgres)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := drop(); err != nil {
				fmt.Fprintln(log, "soak:", err)
			}
		}()
		opts.DatabaseURL = u
		children, err = loadkit.StartReplicas(ctx, opts, c.replicas)
		if err != nil {
			return nil, err
		}
	} else {
		ch, err := loadkit.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		children = []*loadkit.Child{ch}
	}
	defer func() {
		for _, ch := range children {
			ch.Stop()
		}
	}()
	s := &soaker{
		tr:    &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
		pool:  make(chan *chain, poolSize),
		stats: map[string]*opStats{},
	}
	s.api = &http.Client{Transport: s.tr, Timeout: 30 * time.Second}
	for _, name := range opOrder {
		s.stats[name] = &opStats{}
	}
	for _, ch := range children {
		s.bases = append(s.bases, ch.Base)
	}
	if err := s.setUp(ctx); err != nil {
		return nil, fmt.Errorf("set up: %w", err)
	}
	fmt.Fprintf(log, "soak: %d child(ren) ready (%s), load for %s\n", len(children), r.backend(), c.duration)

	// Sample every child's RSS each second while the load runs, and say
	// how it goes every minute.
	r.rss = make([][]int64, len(children))
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			for i, ch := range children {
				n, _ := loadkit.RSS(ch.PID())
				r.rss[i] = append(r.rss[i], n)
			}
			if k := len(r.rss[0]) - 1; k > 0 && k%60 == 0 {
				s.progress(log, k, r.rss)
			}
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()
	cpu0 := make([]time.Duration, len(children))
	for i, ch := range children {
		cpu0[i] = loadkit.ProcessCPU(ch.PID())
	}
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var wg sync.WaitGroup
	kinds := []struct {
		name string
		rate float64
		f    func(n int64)
	}{
		{"sign-in", c.rates.signIn, s.signIn},
		{"device", c.rates.device, s.deviceLogin},
		{"refresh", c.rates.refresh, s.refresh},
		{"credentials", c.rates.credentials, s.credentials},
		{"sigv4", c.rates.sigv4, s.callerIdentity},
		{"admin", c.rates.admin, s.adminCycle},
	}
	r.skipped = map[string]int64{}
	var skippedMu sync.Mutex
	for _, k := range kinds {
		wg.Go(func() {
			n := offer(lctx, k.rate, k.f)
			skippedMu.Lock()
			r.skipped[k.name] = n
			skippedMu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	close(stopSampling)
	<-sampled
	for i, ch := range children {
		r.cpu = append(r.cpu, loadkit.ProcessCPU(ch.PID())-cpu0[i])
	}
	r.loadEnd = loadkit.Loadavg()
	r.stats = s.stats
	return r, ctx.Err()
}

// progress prints the calls and errors so far and each child's latest
// RSS, k seconds into the load.
func (s *soaker) progress(w io.Writer, k int, rss [][]int64) {
	calls, errs := 0, 0
	for _, o := range s.stats {
		o.mu.Lock()
		calls, errs = calls+len(o.lat), errs+o.errs
		o.mu.Unlock()
	}
	fmt.Fprintf(w, "soak: %s: %d calls, %d errors, RSS", time.Duration(k)*time.Second, calls, errs)
	for _, c := range rss {
		fmt.Fprintf(w, " %.1f MiB", loadkit.MiB(c[len(c)-1]))
	}
	fmt.Fprintf(w, ", load average %s\n", loadkit.Loadavg())
}

// offer calls f(n) for n = 0, 1, ... at rate per second, each in its own
// goroutine, until ctx ends, then waits for the calls in flight. It
// returns how many ticks were skipped because maxInFlight calls were
// still running.
func offer(ctx context.Context, rate float64, f func(n int64)) (skipped int64) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInFlight)
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for n := int64(0); ; n++ {
		select {
		case slots <- struct{}{}:
			wg.Go(func() {
				defer func() { <-slots }()
				f(n)
			})
		default:
			skipped++
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return skipped
		case <-t.C:
		}
	}
}

// base returns the replica for step k of the n-th operation of a kind:
// consecutive operations and consecutive steps go to consecutive replicas.
func (s *soaker) base(n int64, k int) string {
	return s.bases[(int(n%int64(len(s.bases)))+k)%len(s.bases)]
}

// from returns a fresh source address for a browser or CLI.
func (s *soaker) from() string {
	n := s.seq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

// timed runs f and records its latency and outcome under op.
func (s *soaker) timed(op string, f func() error) error {
	t0 := time.Now()
	err := f()
	s.stats[op].record(time.Since(t0), err)
	return err
}

// setUp signs the approvers in, registers the CLI clients, fills the token
// pool with one device login per client, and gets the administrator's
// credentials and the identity store ID.
func (s *soaker) setUp(ctx context.Context) error {
	for _, u := range loadkit.DemoUsers {
		b := loadkit.NewBrowser(s.tr)
		b.Timeout = 30 * time.Second
		if err := loadkit.SignIn(loadkit.From(b, s.from()), s.bases[0], u, loadkit.DemoPassword, loadkit.SignInOptions{}); err != nil {
			return fmt.Errorf("sign in %s: %w", u, err)
		}
		s.approvers = append(s.approvers, b)
	}
	for i := range 4 {
		code, reg, err := s.postJSON(s.bases[i%len(s.bases)], "/client/register", map[string]any{"clientName": fmt.Sprintf("soak-%d", i), "clientType": "public",
			"scopes": []string{"sso:account:access"}, "grantTypes": []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}})
		if err != nil || code != 200 {
			return fmt.Errorf("RegisterClient: %d %v", code, err)
		}
		s.clients = append(s.clients, loadkit.Tokens{ClientID: str(reg["clientId"]), ClientSecret: str(reg["clientSecret"])})
	}
	for n := range int64(len(s.clients)) {
		if err := s.deviceLoginErr(n); err != nil {
			return err
		}
	}
	// The administrator: alice's chain (n = 0), credentials for
	// AdministratorAccess in the management account.
	var admin *chain
	for range len(s.clients) {
		ch := <-s.pool
		if ch.user == loadkit.DemoUsers[0] && admin == nil {
			admin = ch
		}
		s.give(ch)
	}
	if admin == nil {
		return errors.New("no device login of the administrator")
	}
	var accounts struct {
		AccountList []struct{ AccountID, AccountName string } `json:"accountList"`
	}
	if err := s.getJSON(s.bases[0]+"/assignment/accounts", admin.tok.AccessToken, &accounts); err != nil {
		return fmt.Errorf("ListAccounts: %w", err)
	}
	mgmt := ""
	for _, a := range accounts.AccountList {
		if a.AccountName == "management" {
			mgmt = a.AccountID
		}
	}
	if mgmt == "" {
		return fmt.Errorf("no management account among %+v", accounts.AccountList)
	}
	rc, err := s.roleCredentials(s.bases[0], admin.tok.AccessToken, mgmt, "AdministratorAccess")
	if err != nil {
		return fmt.Errorf("administrator credentials: %w", err)
	}
	cfg := aws.Config{Region: region, HTTPClient: s.api, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(rc.AccessKeyID, rc.SecretAccessKey, rc.SessionToken)}
	inst, err := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(s.bases[0]) }).
		ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 {
		return fmt.Errorf("ListInstances: %v", err)
	}
	s.storeID = aws.ToString(inst.Instances[0].IdentityStoreId)
	s.ids = identitystore.NewFromConfig(cfg)
	// Role credentials for the SigV4 calls until the load brings newer ones.
	s.credentials(0)
	if s.latestCreds() == nil {
		return errors.New("GetRoleCredentials failed at set-up")
	}
	return nil
}

// signIn signs a demo user in with a new browser from a new address.
func (s *soaker) signIn(n int64) {
	b := loadkit.NewBrowser(s.tr)
	b.Timeout = 30 * time.Second
	user := loadkit.DemoUsers[n%int64(len(loadkit.DemoUsers))]
	s.timed(opSignIn, func() error {
		return loadkit.SignIn(loadkit.From(b, s.from()), s.base(n, 0), user, loadkit.DemoPassword, loadkit.SignInOptions{})
	})
}

func (s *soaker) deviceLogin(n int64) { _ = s.deviceLoginErr(n) }

// deviceLoginErr runs the n-th device login: StartDeviceAuthorization on
// one replica, the approval by a signed-in demo user on the next, and
// CreateToken on the one after; the tokens join the pool.
func (s *soaker) deviceLoginErr(n int64) error {
	cl := s.clients[n%int64(len(s.clients))]
	who := n % int64(len(s.approvers))
	from := s.from()
	var dev map[string]any
	err := s.timed(opDeviceStart, func() error {
		code, out, err := s.postJSONFrom(s.base(n, 0), "/device_authorization", map[string]string{"clientId": cl.ClientID, "clientSecret": cl.ClientSecret, "startUrl": loadkit.StartURL}, from)
		dev = out
		return expect(code, 200, out, err)
	})
	if err != nil {
		return fmt.Errorf("StartDeviceAuthorization: %w", err)
	}
	err = s.timed(opDeviceApprove, func() error {
		code, body, err := loadkit.PostForm(loadkit.From(s.approvers[who], from), s.base(n, 1), "/device", url.Values{"user_code": {str(dev["userCode"])}, "action": {"allow"}})
		if err == nil && code != 200 {
			err = fmt.Errorf("%d: %s", code, loadkit.Clip(body, 300))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("device approval: %w", err)
	}
	var tok map[string]any
	err = s.timed(opDeviceToken, func() error {
		code, out, err := s.postJSONFrom(s.base(n, 2), "/token", map[string]string{"clientId": cl.ClientID, "clientSecret": cl.ClientSecret,
			"grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": str(dev["deviceCode"])}, from)
		tok = out
		if err := expect(code, 200, out, err); err != nil {
			return err
		}
		if str(tok["accessToken"]) == "" || str(tok["refreshToken"]) == "" {
			return fmt.Errorf("no access or refresh token: %v", keys(tok))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("CreateToken: %w", err)
	}
	ch := &chain{user: loadkit.DemoUsers[who], tok: cl}
	ch.tok.AccessToken, ch.tok.RefreshToken = str(tok["accessToken"]), str(tok["refreshToken"])
	s.give(ch)
	return nil
}

// take takes a chain from the pool, waiting at most 10 s for one; the
// error is recorded under op.
func (s *soaker) take(op string) *chain {
	select {
	case ch := <-s.pool:
		return ch
	case <-time.After(10 * time.Second):
		s.stats[op].record(0, errors.New("no token chain free for 10 s"))
		return nil
	}
}

// give puts ch (back) into the pool; when the pool is full, the oldest
// chain leaves it.
func (s *soaker) give(ch *chain) {
	for {
		select {
		case s.pool <- ch:
			return
		default:
			select {
			case <-s.pool:
			default:
			}
		}
	}
}

// refresh rotates a pooled chain's refresh token.
func (s *soaker) refresh(n int64) {
	ch := s.take(opRefresh)
	if ch == nil {
		return
	}
	var out map[string]any
	err := s.timed(opRefresh, func() error {
		code, o, err := s.postJSONFrom(s.base(n, 0), "/token", map[string]string{"clientId": ch.tok.ClientID, "clientSecret": ch.tok.ClientSecret,
			"grantType": "refresh_token", "refreshToken": ch.tok.RefreshToken}, s.from())
		out = o
		if err := expect(code, 200, o, err); err != nil {
			return err
		}
		if rt := str(o["refreshToken"]); rt == "" || rt == ch.tok.RefreshToken || str(o["accessToken"]) == "" {
			return errors.New("the answer does not carry a new refresh token and an access token")
		}
		return nil
	})
	if err != nil {
		return // the chain's refresh token is in doubt: it leaves the pool
	}
	ch.tok.AccessToken, ch.tok.RefreshToken = str(out["accessToken"]), str(out["refreshToken"])
	s.give(ch)
}

// credentials gets role credentials with a pooled chain's access token
// and keeps them for the SigV4 calls.
func (s *soaker) credentials(n int64) {
	ch := s.take(opCredentials)
	if ch == nil {
		return
	}
	defer s.give(ch)
	role := roles[ch.user]
	var rc roleCredentialsOut
	if s.timed(opCredentials, func() (err error) {
		rc, err = s.roleCredentials(s.base(n, 0), ch.tok.AccessToken, role.account, role.role)
		return err
	}) != nil {
		return
	}
	c := aws.Credentials{AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken, Source: "soak"}
	client := sts.NewFromConfig(aws.Config{Region: region, HTTPClient: s.api, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.StaticCredentialsProvider{Value: c}})
	s.credsMu.Lock()
	s.creds = append(s.creds, &roleCreds{creds: c, sts: client})
	if len(s.creds) > 16 {
		s.creds = append(s.creds[:0:0], s.creds[len(s.creds)-16:]...)
	}
	s.credsMu.Unlock()
}

func (s *soaker) latestCreds() *roleCreds {
	s.credsMu.Lock()
	defer s.credsMu.Unlock()
	if len(s.creds) == 0 {
		return nil
	}
	return s.creds[len(s.creds)-1]
}

// callerIdentity calls STS GetCallerIdentity signed with the latest role
// credentials.
func (s *soaker) callerIdentity(n int64) {
	rc := s.latestCreds()
	s.timed(opSigV4, func() error {
		out, err := rc.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{},
			func(o *sts.Options) { o.BaseEndpoint = aws.String(s.base(n, 0)) })
		if err != nil {
			return err
		}
		if !strings.Contains(aws.ToString(out.Arn), ":assumed-role/AWSReservedSSO_") {
			return fmt.Errorf("unexpected caller %s", aws.ToString(out.Arn))
		}
		return nil
	})
}

// adminCycle creates a user and a group, puts the user in the group, and
// deletes both, each step on the next replica.
func (s *soaker) adminCycle(n int64) {
	ctx := context.Background()
	at := func(k int) func(*identitystore.Options) {
		return func(o *identitystore.Options) { o.BaseEndpoint = aws.String(s.base(n, k)) }
	}
	sid := aws.String(s.storeID)
	name := fmt.Sprintf("soak-%d-%d", time.Now().UnixNano(), n)
	var userID, groupID *string
	if s.timed(opCreateUser, func() error {
		out, err := s.ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String(name),
			DisplayName: aws.String("Soak " + name), Name: &istypes.Name{GivenName: aws.String("Soak"), FamilyName: aws.String(name)},
			Emails: []istypes.Email{{Value: aws.String(name + "@example.com"), Type: aws.String("work"), Primary: true}}}, at(0))
		if err == nil {
			userID = out.UserId
		}
		return err
	}) != nil {
		return
	}
	if s.timed(opCreateGroup, func() error {
		out, err := s.ids.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String(name)}, at(1))
		if err == nil {
			groupID = out.GroupId
		}
		return err
	}) == nil {
		s.timed(opMembership, func() error {
			_, err := s.ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: groupID,
				MemberId: &istypes.MemberIdMemberUserId{Value: aws.ToString(userID)}}, at(2))
			return err
		})
	}
	s.timed(opDeleteUser, func() error {
		_, err := s.ids.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: userID}, at(3))
		return err
	})
	if groupID != nil {
		s.timed(opDeleteGroup, func() error {
			_, err := s.ids.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: groupID}, at(4))
			return err
		})
	}
}

// roleCredentialsOut is GetRoleCredentials' answer's roleCredentials
// (botocore sso model, RoleCredentials).
type roleCredentialsOut struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"`
}

// roleCredentials calls GetRoleCredentials on base with access token tok.
func (s *soaker) roleCredentials(base, tok, account, role string) (roleCredentialsOut, error) {
	var out struct {
		RoleCredentials roleCredentialsOut `json:"roleCredentials"`
	}
	err := s.getJSON(base+"/federation/credentials?"+url.Values{"role_name": {role}, "account_id": {account}}.Encode(), tok, &out)
	if err == nil && (out.RoleCredentials.AccessKeyID == "" || out.RoleCredentials.SessionToken == "") {
		err = errors.New("no role credentials in the answer")
	}
	return out.RoleCredentials, err
}

// getJSON GETs u with the portal API's bearer header and decodes a 200
// answer into v.
func (s *soaker) getJSON(u, bearer string, v any) error {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-amz-sso_bearer_token", bearer)
	resp, err := s.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%d: %s", resp.StatusCode, loadkit.Clip(string(body), 300))
	}
	return json.Unmarshal(body, v)
}

func (s *soaker) postJSON(base, path string, body any) (int, map[string]any, error) {
	return loadkit.PostJSON(s.api, base, path, body)
}

// postJSONFrom is postJSON from source address from.
func (s *soaker) postJSONFrom(base, path string, body any, from string) (int, map[string]any, error) {
	return loadkit.PostJSON(loadkit.From(s.api, from), base, path, body)
}

// expect turns an answer other than want into an error quoting it.
func expect(code, want int, out map[string]any, err error) error {
	if err != nil {
		return err
	}
	if code != want {
		b, _ := json.Marshal(out)
		return fmt.Errorf("%d, want %d: %s", code, want, loadkit.Clip(string(b), 300))
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
