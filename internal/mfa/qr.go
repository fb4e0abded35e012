package mfa

import (
	"encoding/base64"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QRDataURI returns the otpauth:// URI uri as a QR code: a PNG image in a
// data: URI, for an <img> under the pages' CSP (img-src 'self' data:).
// Medium error correction (15 %), 256 pixels square.
func QRDataURI(uri string) (string, error) {
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}

// GroupKey writes a base32 key in blocks of 4 characters separated by
// spaces, as people type it into an app ("ABCD EFGH ..."); apps ignore the
// spaces.
func GroupKey(secret string) string {
	var b strings.Builder
	for i, c := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
