package authz

import (
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Request holds what the transport knows about one API call, for the
// request context of spec/iam-policy.md §5.
type Request struct {
	// Time is the request time (the server's clock).
	Time time.Time
	// Secure says the client connection is TLS, or arrived through a
	// trusted TLS-terminating proxy that said so.
	Secure bool
	// SourceIP is the client address, X-Forwarded-For already resolved
	// against the trusted proxies.
	SourceIP string
	// UserAgent is the raw User-Agent header; empty when none was sent.
	UserAgent string
	// Region is the region of the SigV4 credential scope.
	Region string
	// Tags are the tags the request carries (aws:RequestTag/<k>); TagKeys
	// are tag keys it names without values (UntagResource). Both feed
	// aws:TagKeys.
	Tags    []store.Tag
	TagKeys []string
}

// Condition keys Gatehouse fills (spec/iam-policy.md §5).
const (
	KeyCurrentTime            = "aws:CurrentTime"
	KeyEpochTime              = "aws:EpochTime"
	KeySecureTransport        = "aws:SecureTransport"
	KeySourceIP               = "aws:SourceIp"
	KeyUserAgent              = "aws:UserAgent"
	KeyRequestedRegion        = "aws:RequestedRegion"
	KeyPrincipalARN           = "aws:PrincipalArn"
	KeyPrincipalAccount       = "aws:PrincipalAccount"
	KeyPrincipalType          = "aws:PrincipalType"
	KeyUserID                 = "aws:userid"
	KeyTokenIssueTime         = "aws:TokenIssueTime"
	KeyMultiFactorAuthPresent = "aws:MultiFactorAuthPresent"
	KeyMultiFactorAuthAge     = "aws:MultiFactorAuthAge"
	KeyViaAWSService          = "aws:ViaAWSService"
	KeyTagKeys                = "aws:TagKeys"
	KeyRequestTagPrefix       = "aws:RequestTag/"
)

// isoTime formats t as the ISO-8601 UTC form condition keys carry.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// clockKeys are the aws:CurrentTime and aws:EpochTime values of one second.
type clockKeys struct {
	sec          int64
	iso, epochTS string
}

// lastClock holds the clock keys of the latest second formatted: every
// request of that second shares them instead of formatting its own.
var lastClock atomic.Pointer[clockKeys]

// clockValues returns the aws:CurrentTime and aws:EpochTime values of t.
func clockValues(t time.Time) (iso, epoch string) {
	sec := t.Unix()
	if k := lastClock.Load(); k != nil && k.sec == sec {
		return k.iso, k.epochTS
	}
	k := &clockKeys{sec: sec, iso: isoTime(t), epochTS: strconv.FormatInt(sec, 10)}
	lastClock.Store(k)
	return k.iso, k.epochTS
}

// BuildContext resets dst and fills it with the condition keys of a request
// that the role session s makes, for an instance whose home region is
// homeRegion (it decides the role path in aws:PrincipalArn). Role sessions
// never carry aws:username (spec/iam-policy.md §5).
func BuildContext(dst *policy.Context, s *session.Role, homeRegion string, r Request) {
	dst.Reset()
	iso, epoch := clockValues(r.Time)
	dst.Set(KeyCurrentTime, iso)
	dst.Set(KeyEpochTime, epoch)
	dst.Set(KeySecureTransport, strconv.FormatBool(r.Secure))
	if r.SourceIP != "" {
		dst.Set(KeySourceIP, r.SourceIP)
	}
	if r.UserAgent != "" {
		dst.Set(KeyUserAgent, r.UserAgent)
	}
	if r.Region != "" {
		dst.Set(KeyRequestedRegion, r.Region)
	}
	dst.Set(KeyViaAWSService, "false")
	if s != nil {
		dst.Set(KeyPrincipalARN, arn.RoleARN(s.AccountID, homeRegion, s.RoleName))
		dst.Set(KeyPrincipalAccount, s.AccountID)
		dst.Set(KeyPrincipalType, "AssumedRole")
		dst.Set(KeyUserID, s.CallerUserID())
		if !s.IssuedAt.IsZero() {
			dst.Set(KeyTokenIssueTime, isoTime(s.IssuedAt))
		}
		dst.Set(KeyMultiFactorAuthPresent, strconv.FormatBool(s.MFA))
		if s.MFA && !s.AuthTime.IsZero() {
			age := int64(r.Time.Sub(s.AuthTime) / time.Second)
			dst.Set(KeyMultiFactorAuthAge, strconv.FormatInt(max(age, 0), 10))
		}
	}
	if len(r.Tags) == 0 && len(r.TagKeys) == 0 {
		return
	}
	keys := make([]string, 0, len(r.Tags)+len(r.TagKeys))
	for _, t := range r.Tags {
		dst.Set(KeyRequestTagPrefix+t.Key, t.Value)
		if !slices.Contains(keys, t.Key) {
			keys = append(keys, t.Key)
		}
	}
	for _, k := range r.TagKeys {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	dst.Set(KeyTagKeys, keys...)
}
