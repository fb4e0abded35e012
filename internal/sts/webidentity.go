package sts

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// AssumeRoleWithWebIdentity lets a pipeline holding an OpenID Connect token
// (GitHub Actions, GitLab CI, …) take a provisioned role's credentials
// without any stored secret. The request is not signed (botocore marks the
// operation unsigned); the token is the credential. automation.WebIdentity
// verifies it and the provider's trust tags; the credentials are role
// credentials like GetRoleCredentials', whose session envelope names the
// provider, so that deleting the provider or unprovisioning the role ends
// them at once.

// sessionNameRE is RoleSessionName's pattern in the STS model.
var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// WebIdentityResult is the result of AssumeRoleWithWebIdentity.
type WebIdentityResult struct {
	XMLName                     xml.Name       `xml:"AssumeRoleWithWebIdentityResult"`
	SubjectFromWebIdentityToken string         `xml:"SubjectFromWebIdentityToken"`
	Audience                    string         `xml:"Audience"`
	AssumedRoleUser             AssumedRole    `xml:"AssumedRoleUser"`
	Credentials                 WireCredential `xml:"Credentials"`
	Provider                    string         `xml:"Provider"`
}

// AssumedRole is STS's AssumedRoleUser.
type AssumedRole struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

// WireCredential is STS's Credentials element.
type WireCredential struct {
	AccessKeyID     string           `xml:"AccessKeyId"`
	SecretAccessKey string           `xml:"SecretAccessKey"`
	SessionToken    string           `xml:"SessionToken"`
	Expiration      awsproto.ISOTime `xml:"Expiration"`
}

// IssueWebIdentity mints role credentials for a verified web-identity
// token: the token's role, for duration (0 means one hour; at most the
// permission set's session duration), named sessionName.
func (i *Issuer) IssueWebIdentity(ctx context.Context, tok *automation.WebToken, sessionName string, duration time.Duration) (*Credentials, *session.Role, error) {
	now := i.Now().UTC()
	max := tok.PermissionSet.SessionDuration
	if max <= 0 {
		max = access.DefaultSessionDuration
	}
	if duration == 0 {
		duration = min(time.Hour, max)
	}
	if duration > max {
		return nil, nil, fault.Validationf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	s := &session.Role{
		AccessKeyID: i.IDs.TemporaryAccessKeyID(), UserName: sessionName,
		AccountID: tok.Role.AccountID, PermissionSetID: tok.Role.PermissionSetID,
		RoleName: tok.Role.RoleName, RoleID: tok.Role.RoleID, Provider: tok.Provider.ARN, ProviderCreatedAt: tok.Provider.CreatedAt,
		AuthTime: now, IssuedAt: now, Expiration: now.Add(duration).Truncate(time.Second),
	}
	secret := i.IDs.SecretAccessKey()
	token, err := i.seal(s, secret)
	if err != nil {
		return nil, nil, err
	}
	return &Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: secret, SessionToken: token, Expiration: s.Expiration}, s, nil
}

// openWebIdentity checks that the session of a web-identity token still
// stands: the very provider registration it was issued through still
// exists (a provider deleted and registered again under the same URL is a
// new registration: its CreatedAt differs), the very role it was issued for
// is still provisioned (a role unprovisioned and provisioned again gets a
// new role ID), and the account is open.
func (i *Issuer) openWebIdentity(ctx context.Context, s *session.Role) error {
	p, err := i.Store.GetOIDCProvider(ctx, s.Provider)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("provider of %s deleted: %w", s.AccessKeyID, sigv4.ErrRevoked)
	} else if err != nil {
		return fmt.Errorf("check provider of %s: %w", s.AccessKeyID, err)
	}
	// Tokens sealed before the registration time was kept carry none: the
	// registration must then predate their issue.
	if gen := s.ProviderCreatedAt; (!gen.IsZero() && !p.CreatedAt.Equal(gen)) || (gen.IsZero() && p.CreatedAt.After(s.IssuedAt)) {
		return fmt.Errorf("provider of %s registered again since: %w", s.AccessKeyID, sigv4.ErrRevoked)
	}
	return i.openRole(ctx, s)
}

// openRole checks that the role s was issued for is the one provisioned
// now (same role ID) and that its account is open.
func (i *Issuer) openRole(ctx context.Context, s *session.Role) error {
	r, err := i.Cache.Role(ctx, s.AccountID, s.PermissionSetID)
	if fault.KindOf(err) == fault.NotFound {
		return fmt.Errorf("role of %s no longer provisioned: %w", s.AccessKeyID, sigv4.ErrRevoked)
	} else if err != nil {
		return fmt.Errorf("check role of %s: %w", s.AccessKeyID, err)
	}
	if s.RoleID != "" && r.RoleID != s.RoleID {
		return fmt.Errorf("role of %s provisioned again since: %w", s.AccessKeyID, sigv4.ErrRevoked)
	}
	return nil
}

// assumeRoleWithWebIdentity serves the unsigned AssumeRoleWithWebIdentity
// call, auditing it as the token's subject.
func (s *Service) assumeRoleWithWebIdentity(w http.ResponseWriter, r *http.Request, q *awsproto.QueryRequest) {
	ctx := r.Context()
	roleARN, name, raw := q.Get("RoleArn"), q.Get("RoleSessionName"), q.Get("WebIdentityToken")
	params := map[string]string{"roleArn": roleARN, "roleSessionName": name}
	if d := q.Get("DurationSeconds"); d != "" {
		params["durationSeconds"] = d
	}
	actor := audit.ActorFrom(ctx)
	actor.Identity = audit.Identity{Type: "WebIdentityUser"}
	res, err := s.webIdentity(ctx, q, roleARN, name, raw, &actor.Identity)
	ctx = audit.WithActor(ctx, actor)
	entry := audit.Entry{Source: audit.SourceSTS, Name: "AssumeRoleWithWebIdentity", ReadOnly: true, Params: params}
	if err != nil {
		e := awsproto.ErrorFor(awsproto.ProtocolQuery, err)
		entry.ErrorCode, entry.ErrorMsg = e.Code, e.Message
		if e.HTTPStatus() < 500 {
			if aerr := s.Issuer.record(ctx, entry); aerr != nil {
				err = aerr
			}
		}
		s.writeError(w, r, err)
		return
	}
	entry.Response = map[string]any{"credentials": map[string]any{"accessKeyId": res.Credentials.AccessKeyID,
		"expiration": res.Credentials.Expiration.Time.Format(time.RFC3339)}, "assumedRoleUser": map[string]string{
		"arn": res.AssumedRoleUser.Arn, "assumedRoleId": res.AssumedRoleUser.AssumedRoleID}}
	if aerr := s.Issuer.record(ctx, entry); aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	if werr := awsproto.WriteQueryResponse(w, awsproto.STSNamespace, "AssumeRoleWithWebIdentity", &webIdentityBody{res}); werr != nil {
		s.writeError(w, r, werr)
	}
}

// webIdentityBody holds the result's fields without its own element name,
// which WriteQueryResponse supplies.
type webIdentityBody struct{ r *WebIdentityResult }

// MarshalXML writes the result's fields inside start.
func (b *webIdentityBody) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	r := *b.r
	r.XMLName = start.Name
	return e.Encode(r)
}

func (s *Service) webIdentity(ctx context.Context, q *awsproto.QueryRequest, roleARN, name, raw string, id *audit.Identity) (*WebIdentityResult, error) {
	switch {
	case roleARN == "":
		return nil, awsproto.QueryMissingParameter("RoleArn")
	case name == "":
		return nil, awsproto.QueryMissingParameter("RoleSessionName")
	case raw == "":
		return nil, awsproto.QueryMissingParameter("WebIdentityToken")
	case !sessionNameRE.MatchString(name):
		return nil, awsproto.QueryValidationError("1 validation error detected: Value '" + name + "' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	case q.Get("Policy") != "" || len(q.StructList("PolicyArns")) > 0:
		return nil, awsproto.QueryValidationError("Session policies are not supported by Gatehouse; attach the policies to the permission set instead.")
	}
	var duration time.Duration
	if d := q.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return nil, awsproto.QueryValidationError("1 validation error detected: Value '" + d + "' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		duration = time.Duration(n) * time.Second
	}
	if s.WebIdentity == nil {
		return nil, fault.Deniedf("Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	tok, err := s.WebIdentity.Authorize(ctx, roleARN, raw)
	if err != nil {
		return nil, err
	}
	id.PrincipalID = tok.Provider.ARN + ":" + tok.Audience + ":" + tok.Subject
	id.UserName = tok.Subject
	id.AccountID = tok.Role.AccountID
	creds, sess, err := s.Issuer.IssueWebIdentity(ctx, tok, name, duration)
	if err != nil {
		return nil, err
	}
	return &WebIdentityResult{
		SubjectFromWebIdentityToken: tok.Subject, Audience: tok.Audience,
		AssumedRoleUser: AssumedRole{Arn: sess.CallerARN(), AssumedRoleID: sess.CallerUserID()},
		Credentials: WireCredential{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken, Expiration: awsproto.ISOTime{Time: creds.Expiration}},
		Provider: strings.TrimPrefix(tok.Provider.URL, "https://"),
	}, nil
}
