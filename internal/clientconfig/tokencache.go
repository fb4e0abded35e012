package clientconfig

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CachedToken is an sso-session token as the AWS CLI v2 and botocore cache
// it in ~/.aws/sso/cache (botocore/utils.py SSOTokenLoader, tokens.py
// SSOTokenProvider): the same file serves `aws sso login`, credential
// loading and refresh, in CLI 2.9 and 2.3x alike.
type CachedToken struct {
	StartURL     string `json:"startUrl"`
	Region       string `json:"region"`
	AccessToken  string `json:"accessToken"`
	ExpiresAt    string `json:"expiresAt"` // "2006-01-02T15:04:05Z"
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
	// RegistrationExpiresAt is the client secret's expiry, in the same
	// form; botocore refreshes only while it lies ahead.
	RegistrationExpiresAt string `json:"registrationExpiresAt,omitempty"`
	RefreshToken          string `json:"refreshToken,omitempty"`
}

// cacheTime is the timestamp form botocore writes in cache files.
const cacheTime = "2006-01-02T15:04:05Z"

// FormatCacheTime formats t as the cache files hold times.
func FormatCacheTime(t time.Time) string { return t.UTC().Format(cacheTime) }

// ParseCacheTime parses a cache file's time: botocore writes the form
// above, and reads (with dateutil) RFC 3339 with fractions or offsets too.
func ParseCacheTime(s string) (time.Time, error) {
	if t, err := time.Parse(cacheTime, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// TokenCachePath returns the cache file of an sso-session: sha1 of the
// session name, hex, under home/.aws/sso/cache (botocore/utils.py
// SSOTokenLoader._generate_cache_key). AWS_CONFIG_FILE does not move it.
func TokenCachePath(home, session string) string {
	sum := sha1.Sum([]byte(session))
	return filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// ReadCachedToken reads an sso-session's cached token; a missing file is
// os.ErrNotExist.
func ReadCachedToken(home, session string) (CachedToken, error) {
	var t CachedToken
	data, err := os.ReadFile(TokenCachePath(home, session))
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("read cached token of %s: %w", session, err)
	}
	if t.AccessToken == "" {
		return t, fmt.Errorf("cached token of %s: %w", session, errors.New("no accessToken"))
	}
	return t, nil
}

// WriteCachedToken writes an sso-session's token file (mode 0600, folder
// 0700, as the CLI does), replacing it atomically.
func WriteCachedToken(home, session string, t CachedToken) error {
	p := TokenCachePath(home, session)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return writeFileAtomic(p, data, 0o600)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so a reader sees the old or the new file, never half.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteFile writes a config file atomically with mode, creating its folder
// (0700) when missing.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, data, mode)
}

// SameStartURL reports whether two start URLs name the same instance:
// compared as identifiers, without fragment, trailing slash or default
// port, and with scheme and host in lower case.
func SameStartURL(a, b string) bool {
	return normalStartURL(a) == normalStartURL(b)
}

func normalStartURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}
