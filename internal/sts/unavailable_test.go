package sts_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
)

// TestCacheStaleIsServiceUnavailable: a SigV4 call verified while the
// store's change counter has been unreadable for longer than the access
// cache's MaxStale fails closed with STS's retryable ServiceUnavailable
// (503) and Retry-After, logged at Warn, never InternalFailure (500).
func TestCacheStaleIsServiceUnavailable(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t)
	if _, err := e.client(c).GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	e.seq.Down.Store(true)
	e.cacheClock.Set(accesscache.DefaultMaxStale + time.Second)
	_, err := e.client(c).GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{})
	code, status, _ := apiError(t, err)
	if code != "ServiceUnavailable" || status != http.StatusServiceUnavailable {
		t.Errorf("stale cache: %s %d, want ServiceUnavailable 503", code, status)
	}
	if re, ok := errors.AsType[*awshttp.ResponseError](err); !ok {
		t.Errorf("error %T carries no HTTP response", err)
	} else if got := re.HTTPResponse().Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, `level=WARN msg="sts request failed"`) {
		t.Errorf("stale cache logged:\n%s\nwant Warn, no Error", logs)
	}
	e.seq.Down.Store(false)
	e.cacheClock.Set(accesscache.DefaultMaxStale + time.Second + accesscache.DefaultRefreshInterval)
	if _, err := e.client(c).GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity after the counter reads again: %v", err)
	}
}
