package access

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	isoDurationRe = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)
	// isoDateDurationRe matches the ISO-8601 durations with a date part
	// (P1D, P1W, P1Y2M, P1DT2H) and fractions in the last part (PT1.5H).
	isoDateDurationRe = regexp.MustCompile(`^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$`)
	isoFractionRe     = regexp.MustCompile(`^PT(?:\d+H)?(?:\d+M)?(?:\d+S)?$|^PT(?:\d+H)?(?:\d+M)?\d+[.,]\d+[HMS]$`)
)

// ParseSessionDuration parses an ISO-8601 duration of the time-only form
// sso-admin uses for SessionDuration (PT1H, PT90M, PT8H30M). Durations with
// a date part (P1D) are ISO-8601 too but always longer than
// MaxSessionDuration or zero, so they are refused as outside PT1H to PT12H;
// fractions (PT1.5H) are refused with the whole-unit spelling to use.
func ParseSessionDuration(s string) (time.Duration, error) {
	m := isoDurationRe.FindStringSubmatch(s)
	if m == nil || s == "PT" {
		switch {
		case s != "P" && s != "PT" && !strings.HasSuffix(s, "T") && isoDateDurationRe.MatchString(s):
			return 0, fmt.Errorf("%q is outside PT1H to PT12H: session durations count hours and minutes, not days (use PT8H, PT12H)", s)
		case s != "PT" && isoFractionRe.MatchString(s):
			return 0, fmt.Errorf("%q has a fraction; write whole units such as PT1H30M (PT1H to PT12H)", s)
		}
		return 0, fmt.Errorf("%q is not an ISO-8601 duration such as PT1H", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 1_000_000 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

// FormatSessionDuration formats d the way AWS returns SessionDuration.
func FormatSessionDuration(d time.Duration) string {
	h := int(d / time.Hour)
	m := int(d % time.Hour / time.Minute)
	s := int(d % time.Minute / time.Second)
	out := "PT"
	if h > 0 {
		out += strconv.Itoa(h) + "H"
	}
	if m > 0 {
		out += strconv.Itoa(m) + "M"
	}
	if s > 0 || out == "PT" {
		out += strconv.Itoa(s) + "S"
	}
	return out
}
