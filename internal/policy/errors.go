package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a policy validation error. Its message reads like IAM's
// MalformedPolicyDocument messages and names the statement (index from 0 and
// Sid) and the element at fault, e.g.
//
//	Statement[1] (Sid "DenyAll"): Condition: unknown operator "StringEqualz"
//
// Permission-set APIs map it to ValidationException, STS/IAM-style APIs to
// MalformedPolicyDocument (spec/iam-policy.md §1).
type Error struct {
	// Statement is the index of the statement at fault, or -1 when the
	// error concerns the whole document.
	Statement int
	// Sid is the statement's Sid, if it has one.
	Sid string
	// Field is the policy element at fault ("Effect", "Condition", ...),
	// empty when the error concerns the document as a whole.
	Field string
	// Message describes the problem.
	Message string
	// Err is the underlying cause, if any (a JSON syntax error, one of the
	// sentinel errors of this package or of package condition).
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Statement >= 0 {
		fmt.Fprintf(&b, "Statement[%d]", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", e.Sid)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Sentinel causes carried in Error.Err.
var (
	// ErrSyntax marks documents that are not valid JSON or not shaped like
	// a policy.
	ErrSyntax = errors.New("syntax error")
	// ErrTooLarge marks documents over a size limit.
	ErrTooLarge = errors.New("policy too large")
)

// Size limits of spec/iam-policy.md §1.
const (
	// MaxInlineBytes is the largest inline permission-set policy.
	MaxInlineBytes = 32768
	// MaxInlineNonSpace is the most non-whitespace characters an inline
	// permission-set policy may hold.
	MaxInlineNonSpace = 10240
	// MaxManagedNonSpace is the most non-whitespace characters an IAM
	// customer-managed policy may hold.
	MaxManagedNonSpace = 6144
)

// NonSpaceLen counts the characters of data that are not white space, as
// IAM counts policy size.
func NonSpaceLen(data []byte) int {
	n := 0
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		data = data[size:]
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// CheckInlineSize checks the limits on a permission set's inline policy:
// at most MaxInlineBytes bytes and MaxInlineNonSpace non-whitespace
// characters. It returns an *Error wrapping ErrTooLarge.
func CheckInlineSize(data []byte) error {
	if len(data) > MaxInlineBytes {
		return &Error{Statement: -1, Err: ErrTooLarge,
			Message: fmt.Sprintf("Cannot exceed quota for InlinePolicySize: %d bytes, more than the %d allowed", len(data), MaxInlineBytes)}
	}
	if n := NonSpaceLen(data); n > MaxInlineNonSpace {
		return &Error{Statement: -1, Err: ErrTooLarge,
			Message: fmt.Sprintf("Cannot exceed quota for PolicySize: %d non-whitespace characters, more than the %d allowed", n, MaxInlineNonSpace)}
	}
	return nil
}

// CheckManagedSize checks the limit on an IAM customer-managed policy: at
// most MaxManagedNonSpace non-whitespace characters.
func CheckManagedSize(data []byte) error {
	if n := NonSpaceLen(data); n > MaxManagedNonSpace {
		return &Error{Statement: -1, Err: ErrTooLarge,
			Message: fmt.Sprintf("Cannot exceed quota for PolicySize: %d non-whitespace characters, more than the %d allowed", n, MaxManagedNonSpace)}
	}
	return nil
}
