package sts

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// maxBody bounds an STS request body. The largest legal one (AssumeRole with
// a 2048-character policy, 50 tags and 10 policy ARNs) is far below it.
const maxBody = 64 << 10

// signingName is STS's SigV4 service name.
const signingName = "sts"

// Service serves STS (awsQuery) on POST / and GET /?Action=…, verifying every
// request's SigV4 signature, in the Authorization header or presigned in the
// query string.
type Service struct {
	Issuer   *Issuer
	Verifier *sigv4.Verifier
	Log      *slog.Logger
}

// GetCallerIdentityResult is the result of GetCallerIdentity
// (spec/aws-wire.md §5.1).
type GetCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// ServeHTTP verifies the request's signature and runs its Action. Every
// failure is an awsQuery ErrorResponse; authentication failures are audited.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	awsproto.RequestID(w)
	body, rerr := awsproto.ReadQueryBody(w, r, "STS", maxBody)
	if rerr != nil {
		s.writeError(w, r, rerr)
		return
	}
	sess, _, err := s.authenticate(r.Context(), r, body, signingName)
	if err != nil {
		s.denied(w, r, body, sess, err)
		return
	}
	q, err := awsproto.ParseQueryRequest(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch q.Action {
	case "GetCallerIdentity":
		// Needs no permission and cannot be denied by policy (spec §5.1).
		name := sess.SessionName()
		writeCallerIdentity(w, &GetCallerIdentityResult{
			Arn:    arn.AssumedRoleARN(sess.AccountID, sess.RoleName, name),
			UserID: sess.RoleID + ":" + name, Account: sess.AccountID,
		})
	default:
		err = awsproto.QueryInvalidAction(q.Action, q.Version)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// writeCallerIdentity writes GetCallerIdentity's response. It produces
// exactly the bytes awsproto.WriteQueryResponse does (a test holds it to
// that) without encoding/xml's reflection and 4 KiB buffer, which cost a
// third of a verified request on the hot path.
func writeCallerIdentity(w http.ResponseWriter, res *GetCallerIdentityResult) {
	id := awsproto.RequestID(w)
	b := make([]byte, 0, 512)
	b = append(b, `<GetCallerIdentityResponse xmlns="`+awsproto.STSNamespace+`"><GetCallerIdentityResult><Arn>`...)
	b = appendEscaped(b, res.Arn)
	b = append(b, "</Arn><UserId>"...)
	b = appendEscaped(b, res.UserID)
	b = append(b, "</UserId><Account>"...)
	b = appendEscaped(b, res.Account)
	b = append(b, "</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>"...)
	b = appendEscaped(b, id)
	b = append(b, "</RequestId></ResponseMetadata></GetCallerIdentityResponse>"...)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// appendEscaped appends s as XML character data, escaped as encoding/xml
// escapes it. ARNs, IDs and session names are printable ASCII without
// markup characters, which is copied as is; anything else goes through
// xml.EscapeText.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' || c == '\'' || c == '"' {
			var buf bytes.Buffer
			xml.EscapeText(&buf, []byte(s))
			return append(b, buf.Bytes()...)
		}
	}
	return append(b, s...)
}

// Authenticate verifies a SigV4 request for the signing name service with
// the issuer's sessions and returns the session and the verification result.
// Failures are *sigv4.Error (map them with awsproto.ErrorFor) or internal.
func (s *Service) Authenticate(ctx context.Context, r *http.Request, body []byte, service string) (*Session, *sigv4.Result, error) {
	sess, res, err := s.authenticate(ctx, r, body, service)
	if err != nil {
		return nil, nil, err
	}
	return sess, res, nil
}

// authenticate is Authenticate, except that it also returns the session of a
// token that opened when the signature then failed, for the audit record.
func (s *Service) authenticate(ctx context.Context, r *http.Request, body []byte, service string) (*Session, *sigv4.Result, error) {
	var sess *Session
	res, err := s.Verifier.Verify(ctx, r, body, service, func(ctx context.Context, accessKeyID, token string) (string, error) {
		ss, secret, err := s.Issuer.Open(ctx, accessKeyID, token)
		sess = ss
		return secret, err
	})
	if err != nil {
		return sess, nil, err
	}
	// Credentials are valid from their issue on: a request dated earlier
	// (a presigned URL made to look older, or signed with a clock far
	// behind) is refused, allowing the verifier's clock skew, since the
	// issue time is the server's clock and X-Amz-Date the client's.
	if notBefore := sess.IssuedAt.Add(-s.Verifier.Skew()); res.Time.Before(notBefore) {
		return sess, nil, sigv4.CredentialError(fmt.Errorf("request of %s dated %s, before its credentials were issued at %s: %w",
			sess.AccessKeyID, res.Time.Format(time.RFC3339), sess.IssuedAt.Format(time.RFC3339), sigv4.ErrUnknownAccessKey))
	}
	return sess, res, nil
}

// denied audits a request that failed authentication and writes its error.
func (s *Service) denied(w http.ResponseWriter, r *http.Request, body []byte, sess *Session, cause error) {
	e := queryError(cause)
	if e.HTTPStatus() < 500 {
		ctx := r.Context()
		actor := audit.ActorFrom(ctx)
		actor.Identity = audit.Identity{Type: "Unknown", AccessKeyID: accessKeyOf(r)}
		if sess != nil {
			actor.Identity = audit.Identity{Type: "AssumedRole", PrincipalID: sess.CallerUserID(), ARN: sess.CallerARN(),
				AccountID: sess.AccountID, AccessKeyID: sess.AccessKeyID, UserID: sess.UserID, UserName: sess.UserName}
		}
		ctx = audit.WithActor(ctx, actor)
		entry := audit.Entry{Source: audit.SourceSTS, Name: actionOf(r, body), ReadOnly: true, ErrorCode: e.Code, ErrorMsg: e.Message}
		// Through the issuer's event writer: with group commit, a flood of
		// unsigned requests does not cost one transaction each.
		if err := s.Issuer.record(ctx, entry); err != nil {
			// The request fails either way; say so once, here.
			s.Log.Error("record denied STS call", "request_id", awsproto.RequestID(w), "err", err)
		}
	}
	s.writeError(w, r, e)
}

// writeError writes err as an awsQuery error, logging the cause of internal
// failures once.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := queryError(err)
	if e.HTTPStatus() >= 500 {
		s.Log.Error("sts request failed", "request_id", awsproto.RequestID(w), "op", actionOf(r, nil), "err", err)
	}
	awsproto.WriteQueryError(w, awsproto.STSNamespace, e)
}

// queryError is the one mapping of sts errors onto awsQuery errors:
// protocol errors as they are, signature failures per spec/aws-wire.md §2.8
// (awsproto.AuthError), domain faults by kind, anything else InternalFailure.
func queryError(err error) *awsproto.Error {
	if e, ok := errors.AsType[*fault.Error](err); ok {
		switch e.Kind {
		case fault.AccessDenied:
			return awsproto.QueryAccessDenied(e.Message)
		case fault.Validation:
			return awsproto.QueryValidationError(e.Message)
		}
	}
	return awsproto.ErrorFor(awsproto.ProtocolQuery, err)
}

// actionOf returns the request's Action for the audit record, or "Unknown"
// when it names none.
func actionOf(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if len(body) > 0 {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return form.Get("Action")
		}
	}
	return "Unknown"
}

// accessKeyOf returns the access key ID a request claims, from the
// Authorization header or the presigned X-Amz-Credential, for the audit
// record of a request whose token did not open.
func accessKeyOf(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		_, after, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	akid, _, _ := strings.Cut(strings.TrimSpace(cred), "/")
	if len(akid) > 128 {
		return ""
	}
	return akid
}
