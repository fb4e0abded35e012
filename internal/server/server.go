// Package server is Gatehouse's composition root: it opens the store, loads
// the keys, bootstraps the instance, builds the domain services and mounts
// every API and page on one HTTP origin (DESIGN §2–3). It holds no business
// logic of its own.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/examples"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/instance"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/seed"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// Server is a configured Gatehouse.
type Server struct {
	Config   config.Config
	Log      *slog.Logger
	Store    store.Store
	Keys     *keyring.Ring
	Instance *store.Instance
	Audit    *audit.Recorder
	// Events records events outside a change's transaction with group commit.
	Events    *audit.Batcher
	Directory *directory.Service
	Access    *access.Service
	IDs       arn.Generator
	// SeedPassword is the password given to demo or seed users that have
	// none; Generated says it was made up at this start and must be shown.
	SeedPassword string
	Generated    bool
	// Seeded counts what the demo or seed load changed at this start.
	Seeded seed.Result
	apis
	mailing

	handler http.Handler
	trusted []netip.Prefix
	stop    context.CancelFunc
	stopped chan struct{}
	// refusals bounds the audit events of refused SAML responses and OIDC
	// callbacks per source address.
	refusals *audit.Throttle
	// afterSweep, when set (tests), is called after each background sweep.
	afterSweep func(SweepResult, error)
}

// OpenStore opens the database the configuration names: PostgreSQL for a
// postgres:// URL, otherwise SQLite in the data folder, which it locks
// (LockFileName) until the store is closed: a second serve or migrate on
// the same folder gets a *DataDirInUseError.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return postgres.Open(ctx, cfg.DatabaseURL)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DatabaseFileName))
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &lockedStore{Store: st, lock: lock}, nil
}

// New builds a server from cfg: it opens the store (running migrations),
// loads or creates the keys and the instance, and loads the demo or seed
// world when asked.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	// The operator's allow-list of linked accounts' endpoints, the demo's
	// stand-in included (awsaccounts.EndpointList).
	endpoints, err := awsaccounts.NewEndpointList(cfg.AWSEndpointsAllowed()...)
	if err != nil {
		return nil, fmt.Errorf("aws-endpoint-allow: %w", err)
	}
	st, err := OpenStore(ctx, &cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Server{Config: cfg, Log: log, Store: st, IDs: arn.Generator{Rand: cfg.Rand}}
	s.endpoints = endpoints
	if err := s.init(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	cfg := &s.Config
	master, err := keyring.LoadMasterKey(cfg.MasterKey, cfg.MasterKeyPath(), cfg.Rand)
	if err != nil {
		return err
	}
	if cfg.MasterKeyBesideDatabase() {
		s.Log.Warn("the master key file is in the data folder beside the database, so a copy of the folder carries both; "+
			"keep it elsewhere with --master-key-file (GATEHOUSE_MASTER_KEY_FILE) or GATEHOUSE_MASTER_KEY, and back it up separately",
			"master_key_file", cfg.MasterKeyPath(), "data", cfg.DataDir)
	}
	if s.Keys, err = keyring.Open(ctx, s.Store, master, cfg.Rand, cfg.Now); err != nil {
		return err
	}
	// Event IDs are time-ordered (UUID version 7), so a batch of events
	// appends to the end of the events table's ID index instead of
	// dirtying a random page of it per event.
	s.Audit = &audit.Recorder{Now: cfg.Now, NewID: func() string { return s.IDs.TimeUUID(cfg.Now()) }, Region: cfg.Region}
	in, created, err := instance.Bootstrap(ctx, s.Store, instance.Options{
		Region: cfg.Region, StartURL: cfg.StartURL, IDs: s.IDs, Now: cfg.Now, Audit: s.Audit,
	})
	if err != nil {
		return err
	}
	s.Instance = in
	s.Audit.Account = in.ManagementAccountID
	s.Audit.Region = in.Region
	if !created && cfg.Region != in.Region {
		s.Log.Warn("the instance's home region is fixed at first start; ignoring --region", "instance_region", in.Region, "configured", cfg.Region)
	}
	s.Access = &access.Service{Store: s.Store, Audit: s.Audit, IDs: s.IDs, Now: cfg.Now, InstanceID: in.InstanceID}
	s.Directory = &directory.Service{
		Store: s.Store, Audit: s.Audit, Access: s.Access, IDs: s.IDs, Rand: cfg.Rand, Now: cfg.Now,
		IdentityStoreID: in.IdentityStoreID, RevocationTTL: access.RevocationLifetime(cfg.PortalSessionDuration),
	}
	if err := s.loadWorlds(ctx); err != nil {
		return err
	}
	s.Events = &audit.Batcher{Store: s.Store, Recorder: s.Audit}
	// One throttle for the SAML ACS and the OIDC callback: both are
	// unauthenticated, and their refusals are counted per address.
	s.refusals = &audit.Throttle{Events: s.Events, Now: cfg.Now}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.stopped = stop, make(chan struct{})
	go func() {
		defer close(s.stopped)
		s.Events.Run(bg)
	}()
	go s.refusals.Run(bg)
	s.trusted = trustedProxies(cfg.TrustedProxies)
	if err := s.wireMail(); err != nil {
		return err
	}
	s.wire()
	if cfg.Demo {
		// The demo world's users sign in with the printed password.
		if err := s.Settings.Init(ctx, settings.PolicyOff); err != nil {
			return err
		}
	}
	s.handler = s.routes()
	return nil
}

func (s *Server) loadWorlds(ctx context.Context) error {
	cfg := &s.Config
	var worlds []*seed.World
	if cfg.Demo {
		w, err := seed.Parse(examples.DemoWorld)
		if err != nil {
			return fmt.Errorf("demo world: %w", err)
		}
		worlds = append(worlds, w)
	}
	if cfg.Seed != "" {
		data, err := os.ReadFile(cfg.Seed)
		if err != nil {
			return fmt.Errorf("read seed: %w", err)
		}
		w, err := seed.Parse(data)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Seed, err)
		}
		worlds = append(worlds, w)
	}
	if len(worlds) == 0 {
		return nil
	}
	s.SeedPassword = cfg.DemoPassword
	if s.SeedPassword == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		s.SeedPassword = strings.NewReplacer("-", "x", "_", "y").Replace(base64.RawURLEncoding.EncodeToString(b))
		s.Generated = true
	}
	l := &seed.Loader{Directory: s.Directory, Access: s.Access, Instance: s.Instance, Password: s.SeedPassword}
	// The same reconciliation as `gatehouse apply` (without pruning): a
	// changed session duration or a removed member is applied, and each
	// change is logged.
	for _, w := range worlds {
		plan, err := l.Plan(ctx, w, seed.Options{})
		if err != nil {
			return fmt.Errorf("load world: %w", err)
		}
		for _, c := range plan.Changes {
			s.Log.Info("world file change", "change", c.String())
		}
		res, err := l.Apply(ctx, plan)
		s.Seeded.Created += res.Created
		s.Seeded.Updated += res.Updated
		s.Seeded.Deleted += res.Deleted
		s.Seeded.Passwords += res.Passwords
		s.Seeded.DefaultPasswords += res.DefaultPasswords
		if err != nil {
			return fmt.Errorf("load world: %w", err)
		}
	}
	return nil
}

// Handler returns the HTTP handler serving every API and page.
func (s *Server) Handler() http.Handler { return s.handler }

// BaseURL is the URL the server is reached at.
func (s *Server) BaseURL() string { return s.Config.BaseURL() }

// Close stops the background writers and releases the store.
func (s *Server) Close() error {
	if s.Invites != nil {
		s.Invites.Wait() // reset mails "forgot password" is still sending
	}
	if s.refusals != nil && s.stop != nil {
		// The refusals counted but not recorded one by one are recorded
		// while the batcher still runs.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.refusals.Close(ctx); err != nil {
			s.Log.Warn("recording the counts of refused sign-in responses", "err", err)
		}
		cancel()
	}
	if s.stop != nil {
		s.stop()
		<-s.stopped
	}
	return s.Store.Close()
}
