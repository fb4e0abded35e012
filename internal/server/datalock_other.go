//go:build !unix

package server

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// lockFile does nothing where flock(2) does not exist: the data folder is
// not protected against a second server there.
func lockFile(*os.File) error { return nil }
