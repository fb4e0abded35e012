package awsproto

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader is the response header carrying the request ID; botocore
// and aws-sdk-go-v2 read it case-insensitively (spec/aws-wire.md §2.4).
const RequestIDHeader = "X-Amzn-Requestid"

// NewRequestID returns a random UUID version 4 (RFC 9562 §5.4) in its
// canonical lower-case form.
func NewRequestID() string {
	var u [16]byte
	rand.Read(u[:]) // never returns an error (crypto/rand, Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

// RequestID returns the request ID of the response being written to w,
// setting the x-amzn-RequestId header to a new ID if it is not set yet. Call
// it early (e.g. in logging middleware) to log the ID the client will see;
// every writer in this package reuses it.
func RequestID(w http.ResponseWriter) string {
	h := w.Header()
	if id := h.Get(RequestIDHeader); id != "" {
		return id
	}
	id := NewRequestID()
	h.Set(RequestIDHeader, id)
	return id
}
