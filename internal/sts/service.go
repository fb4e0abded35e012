package sts

import (
	"bytes"
	"encoding/xml"
	"log/slog"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
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
	// Auth authenticates requests (and audits refusals).
	Auth *awsauth.Authenticator
	// Issuer mints the credentials of AssumeRoleWithWebIdentity and
	// records its audit events.
	Issuer *Issuer
	// WebIdentity verifies web-identity tokens; nil refuses
	// AssumeRoleWithWebIdentity.
	WebIdentity *automation.WebIdentity
	Log         *slog.Logger
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
	if awsauth.OperationOf(r, body) == "AssumeRoleWithWebIdentity" {
		// Unsigned: the web-identity token is the credential.
		q, err := awsproto.ParseQueryRequest(r, body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.assumeRoleWithWebIdentity(w, r, q)
		return
	}
	c, err := s.Auth.Authenticate(r.Context(), r, body, signingName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := awsproto.ParseQueryRequest(r, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Action != "GetCallerIdentity" {
		s.writeError(w, r, awsproto.QueryInvalidAction(q.Action, q.Version))
		return
	}
	// Needs no permission and cannot be denied by policy (spec §5.1). The
	// caller already holds the assumed-role or user ARN and UserId.
	writeCallerIdentity(w, &GetCallerIdentityResult{Arn: c.ARN, UserID: c.PrincipalID, Account: c.AccountID})
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

// writeError writes err as an awsQuery error, logging the cause of internal
// failures once.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := awsproto.ErrorFor(awsproto.ProtocolQuery, err)
	awsproto.LogFailure(r.Context(), s.Log, e.HTTPStatus(), err, "sts request failed",
		slog.String("request_id", awsproto.RequestID(w)), slog.String("op", awsauth.OperationOf(r, nil)))
	awsproto.WriteQueryError(w, awsproto.STSNamespace, e)
}
