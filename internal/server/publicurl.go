package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File names in the data folder (SQLite).
const (
	// DatabaseFileName is the SQLite database.
	DatabaseFileName = "gatehouse.db"
	// PublicURLFileName records the public URL the server last started
	// with, so that `gatehouse invite`, run beside it without
	// --public-url, prints and mails links people can open.
	PublicURLFileName = "public-url"
)

// HasDatabase reports whether dir holds a Gatehouse SQLite database.
func HasDatabase(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, DatabaseFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// WritePublicURL records the public URL the server runs with in its data
// folder (mode 0600, replaced at each start).
func WritePublicURL(dir, url string) error {
	if err := os.WriteFile(filepath.Join(dir, PublicURLFileName), []byte(url+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the public URL: %w", err)
	}
	return nil
}

// ReadPublicURL returns the public URL the server last started with in
// dir, or "" when none was recorded.
func ReadPublicURL(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, PublicURLFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
