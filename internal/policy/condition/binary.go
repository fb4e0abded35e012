package condition

import (
	"bytes"
	"encoding/base64"
)

// Binary family: BinaryEquals compares base64-encoded values by their
// decoded bytes.

func (c *Condition) compileBinary(values []string, o Options) error {
	c.bins = make([][]byte, 0, len(values))
	for _, v := range values {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			if err := c.badValue(v, o, "not base64"); err != nil {
				return err
			}
			continue
		}
		c.bins = append(c.bins, b)
	}
	return nil
}

func (c *Condition) matchBinary(r string) bool {
	var buf [512]byte
	if base64.StdEncoding.DecodedLen(len(r)) > len(buf) {
		return c.matchBinaryLarge(r)
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(r))
	if err != nil {
		return false
	}
	for _, y := range c.bins {
		if bytes.Equal(buf[:n], y) {
			return true
		}
	}
	return false
}

func (c *Condition) matchBinaryLarge(r string) bool {
	x, err := base64.StdEncoding.DecodeString(r)
	if err != nil {
		return false
	}
	for _, y := range c.bins {
		if bytes.Equal(x, y) {
			return true
		}
	}
	return false
}
