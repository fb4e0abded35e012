package signin

import (
	"crypto/rand"
	"encoding/json"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
)

// DeviceCookieName is the known-device cookie: set on a successful sign-in
// and sent back only to the sign-in pages.
const DeviceCookieName = "gatehouse_device"

// device is a known-device token: a browser the user signed in from.
type device struct {
	UserID  string `json:"u"`
	ID      string `json:"d"`
	Expires int64  `json:"e"` // unix seconds
}

var deviceAD = []byte("gatehouse/signin/device/v1")

// newDevice returns a sealed known-device token for userID, reusing the
// device ID of prev when it is the same user's.
func (s *Service) newDevice(userID string, prev *device) (string, error) {
	id := rand.Text()
	if prev != nil && prev.UserID == userID {
		id = prev.ID
	}
	b, err := json.Marshal(device{UserID: userID, ID: id, Expires: s.now().Add(s.limits.DeviceLifetime).Unix()})
	if err != nil {
		return "", err
	}
	return s.Keys.Seal(keyring.PurposeSecrets, b, deviceAD)
}

// openDevice returns the known-device token sealed in value when it is
// valid, unexpired and bound to userID, and nil otherwise.
func (s *Service) openDevice(value, userID string) *device {
	if value == "" || userID == "" || len(value) > 1024 {
		return nil
	}
	b, err := s.Keys.Open(keyring.PurposeSecrets, value, deviceAD)
	if err != nil {
		return nil
	}
	var d device
	if json.Unmarshal(b, &d) != nil || d.UserID != userID || d.ID == "" || s.now().Unix() >= d.Expires {
		return nil
	}
	return &d
}

// DeviceMaxAge is how long the browser should keep the known-device cookie.
func (s *Service) DeviceMaxAge() time.Duration { return s.limits.DeviceLifetime }
