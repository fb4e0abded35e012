package adminapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Actions of the Gatehouse admin API's identity-source operations, each
// authorized on the identity store's ARN (the identity source is where
// that store's people come from).
const (
	ActionDescribeIdentitySource      = "gatehouse:DescribeIdentitySource"
	ActionUpdateIdentitySource        = "gatehouse:UpdateIdentitySource"
	ActionPreviewIdentitySourceSwitch = "gatehouse:PreviewIdentitySourceSwitch"
	ActionSwitchIdentitySource        = "gatehouse:SwitchIdentitySource"
	ActionSyncIdentitySource          = "gatehouse:SyncIdentitySource"
)

// maxKindName bounds a Kind member (the kinds are short words).
const maxKindName = 64

// identitySourceOps returns the identity-source operations:
//
//	DescribeIdentitySource       {} → the active kind and every registered kind
//	UpdateIdentitySource         {Kind, Settings, Secret?} → {}
//	PreviewIdentitySourceSwitch  {Kind} → the switch's plan, changing nothing
//	SwitchIdentitySource         {Kind, ExpectedActiveKind?} → the plan carried out
//	SyncIdentitySource           {} → what a sync of the active source (LDAP) did now
//
// Settings are validated by idsource.Service.Configure (ValidationException
// naming every problem); the secret is write-only: no answer, audit event
// or log line carries it.
func (s *Service) identitySourceOps() map[string]operation {
	storeARN := func(context.Context, *awsauth.Caller, any) ([]string, error) {
		return []string{arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)}, nil
	}
	return map[string]operation{
		"DescribeIdentitySource": op(ActionDescribeIdentitySource, true, resourcesOf[struct{}](storeARN),
			func(ctx context.Context, _ *awsauth.Caller, _ *struct{}) (*DescribeIdentitySourceOutput, error) {
				src, err := s.sources()
				if err != nil {
					return nil, err
				}
				return describeIdentitySource(ctx, src)
			}),
		"UpdateIdentitySource": op(ActionUpdateIdentitySource, false, resourcesOf[UpdateIdentitySourceInput](storeARN),
			func(ctx context.Context, _ *awsauth.Caller, in *UpdateIdentitySourceInput) (*struct{}, error) {
				src, err := s.sourcesFor(in.Kind)
				if err != nil {
					return nil, err
				}
				if in.Kind == idsource.Directory {
					return nil, fault.Validationf("The built-in directory has no settings; its MFA policy is an instance setting")
				}
				settings := in.Settings
				if settings == nil {
					settings = map[string]string{}
				}
				return nil, src.Configure(ctx, in.Kind, settings, in.Secret)
			}),
		"PreviewIdentitySourceSwitch": op(ActionPreviewIdentitySourceSwitch, true, resourcesOf[SwitchIdentitySourceInput](storeARN),
			func(ctx context.Context, _ *awsauth.Caller, in *SwitchIdentitySourceInput) (*IdentitySourcePlan, error) {
				src, err := s.sourcesFor(in.Kind)
				if err != nil {
					return nil, err
				}
				p, err := src.PlanSwitch(ctx, in.Kind)
				if err != nil {
					return nil, err
				}
				return planOutput(p), nil
			}),
		"SwitchIdentitySource": op(ActionSwitchIdentitySource, false, resourcesOf[SwitchIdentitySourceInput](storeARN),
			func(ctx context.Context, _ *awsauth.Caller, in *SwitchIdentitySourceInput) (*IdentitySourcePlan, error) {
				src, err := s.sourcesFor(in.Kind)
				if err != nil {
					return nil, err
				}
				if in.ExpectedActiveKind != "" {
					active, err := src.ActiveKind(ctx)
					if err != nil {
						return nil, err
					}
					if active != in.ExpectedActiveKind {
						return nil, fault.Conflictf("The active identity source is %s, not %s: it changed since the switch was previewed", active, in.ExpectedActiveKind)
					}
				}
				p, err := src.Switch(ctx, in.Kind)
				if err != nil {
					return nil, err
				}
				return planOutput(p), nil
			}),
		"SyncIdentitySource": op(ActionSyncIdentitySource, false, resourcesOf[struct{}](storeARN),
			func(ctx context.Context, _ *awsauth.Caller, _ *struct{}) (*SyncIdentitySourceOutput, error) {
				src, err := s.sources()
				if err != nil {
					return nil, err
				}
				c, err := src.Sync(ctx)
				if err != nil {
					return nil, err
				}
				return &SyncIdentitySourceOutput{UserCount: c.Users, DisabledCount: c.Disabled, RetiredCount: c.Retired,
					FailedCount: c.Failed, SkippedCount: c.Skipped}, nil
			}),
	}
}

// resourcesOf adapts a resource function that ignores the input to op's
// typed form.
func resourcesOf[In any](f func(context.Context, *awsauth.Caller, any) ([]string, error)) func(context.Context, *awsauth.Caller, *In) ([]string, error) {
	return func(ctx context.Context, c *awsauth.Caller, in *In) ([]string, error) { return f(ctx, c, in) }
}

// sources returns the identity source service; without one (a server
// wired without it) the operation fails as an InternalServerException.
func (s *Service) sources() (*idsource.Service, error) {
	if s.Sources == nil {
		return nil, errors.New("gatehouse admin API: no identity source service")
	}
	return s.Sources, nil
}

// sourcesFor returns the identity source service for an operation on
// kind, after checkKind.
func (s *Service) sourcesFor(kind string) (*idsource.Service, error) {
	src, err := s.sources()
	if err != nil {
		return nil, err
	}
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	return src, nil
}

// checkKind refuses an absent or oversized Kind member; which kinds exist
// is the identity source service's to say.
func checkKind(kind string) error {
	switch {
	case kind == "":
		return fault.Validationf("1 validation error detected: Value null at 'kind' failed to satisfy constraint: Member must not be null")
	case len(kind) > maxKindName:
		return fault.Validationf("1 validation error detected: Value at 'kind' failed to satisfy constraint: Member must have length less than or equal to %d", maxKindName)
	}
	return nil
}

// UpdateIdentitySourceInput is UpdateIdentitySource's input.
type UpdateIdentitySourceInput struct {
	// Kind is saml, oidc or ldap (a registered kind).
	Kind string
	// Settings replace the kind's stored settings: names as
	// DescribeIdentitySource lists them; empty values fall back to the
	// field's default.
	Settings map[string]string
	// Secret is the kind's secret setting (client secret, bind password):
	// absent (or null) keeps the stored one, "" removes it.
	Secret *string
}

// AuditParams is what the audit event of a refused UpdateIdentitySource
// records: the input without the secret, only whether one was sent.
func (in *UpdateIdentitySourceInput) AuditParams() any {
	return struct {
		Kind          string
		Settings      map[string]string
		SecretChanged bool
	}{in.Kind, in.Settings, in.Secret != nil}
}

// SwitchIdentitySourceInput is the input of PreviewIdentitySourceSwitch
// and SwitchIdentitySource.
type SwitchIdentitySourceInput struct {
	// Kind is the source to switch to: directory (the break-glass way back
	// to Gatehouse's own passwords), saml, oidc or ldap.
	Kind string
	// ExpectedActiveKind, when set, makes the switch refuse
	// (ConflictException) unless that kind is still the active one: the
	// plan shown before is then the plan carried out.
	ExpectedActiveKind string `json:",omitempty"`
}

// DescribeIdentitySourceOutput is what DescribeIdentitySource answers.
type DescribeIdentitySourceOutput struct {
	// ActiveKind is directory, saml, oidc or ldap.
	ActiveKind string
	// Kinds are the registered kinds, ordered by name.
	Kinds []IdentitySourceKind
}

// IdentitySourceKind is one registered kind, its fields and its stored
// settings.
type IdentitySourceKind struct {
	Kind, Title string
	Active      bool
	// Configured says settings were stored (a switch needs them).
	Configured bool
	Fields     []IdentitySourceField
	// Secret describes the secret setting; absent when the kind has none.
	Secret *IdentitySourceField `json:",omitempty"`
	// Settings are the stored settings with the fields' defaults filled in
	// (the defaults alone when never configured).
	Settings map[string]string
	// HasSecret says a secret is stored; the secret itself is never
	// answered.
	HasSecret bool
	// Info lists the values to paste into the identity provider.
	Info []IdentitySourceInfo
	// UpdatedAt and UpdatedBy say when and by whom the settings were last
	// stored (absent when never).
	UpdatedAt *float64 `json:",omitempty"`
	UpdatedBy string   `json:",omitempty"`
}

// IdentitySourceField is idsource.Field on the wire.
type IdentitySourceField struct {
	Name, Label, Help   string
	Required, Multiline bool
	Default             string   `json:",omitempty"`
	Options             []string `json:",omitempty"`
}

// IdentitySourceInfo is idsource.Info on the wire.
type IdentitySourceInfo struct{ Label, Value string }

// IdentitySourcePlan is idsource.Plan on the wire: what a switch changes.
type IdentitySourcePlan struct {
	FromKind, ToKind string
	// UserCount is how many users the identity store holds.
	UserCount int
	// PasswordCount is how many users' Gatehouse passwords stop being used.
	PasswordCount int
	// MFADeviceCount is how many MFA devices stop being used.
	MFADeviceCount int
	// Preview is the new kind's own preview, when it has one.
	Preview *IdentitySourcePreview `json:",omitempty"`
	Notes   []string
	// Warnings are the lockouts the switch risks (the caller not matched
	// by the new source, no existing user matched, a preview that
	// failed), with the break-glass command; empty when none.
	Warnings []string
	// PreviewError is why the new kind's preview failed (the directory
	// unreachable, its bind refused); absent when it worked.
	PreviewError string `json:",omitempty"`
}

// SyncIdentitySourceOutput is what SyncIdentitySource did: users
// provisioned, disabled in the directory, retired (gone from it), failed,
// and entries skipped (no user name or unique ID). A sync that fails is a
// ValidationException saying why; it changed nothing.
type SyncIdentitySourceOutput struct {
	UserCount, DisabledCount, RetiredCount, FailedCount, SkippedCount int
}

// IdentitySourcePreview is idsource.Preview on the wire.
type IdentitySourcePreview struct {
	Matched, New, Unmatched []string
}

// field renders f on the wire.
func field(f idsource.Field) IdentitySourceField {
	return IdentitySourceField{Name: f.Name, Label: f.Label, Help: f.Help, Required: f.Required, Multiline: f.Multiline,
		Default: f.Default, Options: f.Options}
}

// describeIdentitySource lists every registered kind with its fields,
// stored settings (or the defaults when never configured) and info; a
// secret is only said to exist. Store errors are returned wrapped.
func describeIdentitySource(ctx context.Context, src *idsource.Service) (*DescribeIdentitySourceOutput, error) {
	active, err := src.ActiveKind(ctx)
	if err != nil {
		return nil, err
	}
	out := &DescribeIdentitySourceOutput{ActiveKind: active, Kinds: []IdentitySourceKind{}}
	for _, k := range src.Kinds() {
		d := IdentitySourceKind{Kind: k.Name, Title: k.Title, Active: k.Name == active, Fields: []IdentitySourceField{},
			Info: []IdentitySourceInfo{}}
		for _, f := range k.Fields {
			d.Fields = append(d.Fields, field(f))
		}
		if k.Secret != nil {
			f := field(*k.Secret)
			d.Secret = &f
		}
		rec, err := src.Store.GetIdentitySource(ctx, k.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			d.Settings = map[string]string{}
			for _, f := range k.Fields {
				if f.Default != "" {
					d.Settings[f.Name] = f.Default
				}
			}
		case err != nil:
			return nil, fmt.Errorf("identity source %s: %w", k.Name, err)
		default:
			d.Configured = true
			if d.Settings, d.HasSecret, err = src.Settings(ctx, k.Name); err != nil {
				return nil, fmt.Errorf("identity source %s: %w", k.Name, err)
			}
			if !rec.UpdatedAt.IsZero() {
				t := float64(rec.UpdatedAt.UnixNano()) / float64(time.Second)
				d.UpdatedAt = &t
			}
			d.UpdatedBy = rec.UpdatedBy
		}
		if k.Info != nil {
			for _, i := range k.Info() {
				d.Info = append(d.Info, IdentitySourceInfo{Label: i.Label, Value: i.Value})
			}
		}
		out.Kinds = append(out.Kinds, d)
	}
	return out, nil
}

// planOutput renders p on the wire, lists never null.
func planOutput(p *idsource.Plan) *IdentitySourcePlan {
	out := &IdentitySourcePlan{FromKind: p.From, ToKind: p.To, UserCount: p.Users, PasswordCount: p.Passwords,
		MFADeviceCount: p.MFADevices, Notes: nonNil(p.Notes), Warnings: nonNil(p.Warnings), PreviewError: p.PreviewError}
	if p.Preview != nil {
		out.Preview = &IdentitySourcePreview{Matched: nonNil(p.Preview.Matched), New: nonNil(p.Preview.New), Unmatched: nonNil(p.Preview.Unmatched)}
	}
	return out
}

// nonNil returns v, or an empty list for nil so the wire shows [].
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
