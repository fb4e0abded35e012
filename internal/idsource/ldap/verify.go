package ldap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// ErrBindRefused: the directory answered but refused the service
// account's bind DN and password (Invalid Credentials, 49, say). It is not
// ErrUnreachable: the directory is up, the stored bind password is wrong.
var ErrBindRefused = errors.New("the LDAP directory refused the service account's bind")

// verifyTimeout bounds the directory's part of a Save.
const verifyTimeout = 20 * time.Second

// bindError classifies the error of a service bind: an LDAP result the
// directory sent (RFC 4511 §4.1.9; result codes below 200 come from the
// server, go-ldap's own start at 200) wraps ErrBindRefused and names the
// code, e.g. "bind as cn=gatehouse,dc=corp: Invalid Credentials (49)";
// anything else (a network error, a timeout) wraps ErrUnreachable. The
// password never appears in it.
func (c *config) bindError(err error) error {
	if le, ok := errors.AsType[*ldap.Error](err); ok && le.ResultCode < 200 {
		return fmt.Errorf("%w: bind as %s: %s", ErrBindRefused, c.bindDN, resultText(le.ResultCode))
	}
	return fmt.Errorf("%w: bind as %s: %v", ErrUnreachable, c.bindDN, err)
}

// resultText names an LDAP result code as "Invalid Credentials (49)".
func resultText(code uint16) string {
	if name, ok := ldap.LDAPResultCodeMap[code]; ok {
		return fmt.Sprintf("%s (%d)", name, code)
	}
	return fmt.Sprintf("result code %d", code)
}

// verify is the kind's Verify: with settings (already checked by check)
// and the bind password being saved or stored, it binds as the service
// account and reads the user base DN's entry, so that a Save of a wrong
// password or an unreachable directory is refused (a Validation fault)
// instead of locking every sign-in out later.
func verify(ctx context.Context, settings map[string]string, password string) error {
	c, err := parse(settings)
	if err != nil {
		return err
	}
	if password == "" {
		return fault.Validationf("Invalid ldap settings: the bind password is required")
	}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	conn, done, err := c.dial(ctx)
	if err != nil {
		return fault.Validationf("Invalid ldap settings: Gatehouse could not reach the directory at %s: %v", c.rawURL, err)
	}
	if err := conn.Bind(c.bindDN, password); err != nil {
		done()
		if le, ok := errors.AsType[*ldap.Error](err); ok && le.ResultCode < 200 {
			return fault.Validationf("Invalid ldap settings: the directory refused the bind DN and password: %s", resultText(le.ResultCode))
		}
		return fault.Validationf("Invalid ldap settings: Gatehouse could not reach the directory at %s: %v", c.rawURL, err)
	}
	defer done()
	req := ldap.NewSearchRequest(c.userBase, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, searchTimeLimit, false, "(objectClass=*)", []string{"1.1"}, nil)
	if _, err := conn.Search(req); err != nil {
		if le, ok := errors.AsType[*ldap.Error](err); ok && le.ResultCode < 200 {
			return fault.Validationf("Invalid ldap settings: the directory could not read userBaseDN %s: %s", c.userBase, resultText(le.ResultCode))
		}
		return fault.Validationf("Invalid ldap settings: Gatehouse could not reach the directory at %s: %v", c.rawURL, err)
	}
	return nil
}
