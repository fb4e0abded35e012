package authz

import (
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
)

// Checker validates policy documents and managed policy ARNs for the
// permission-set APIs. The zero value is ready to use.
type Checker struct{}

var _ access.PolicyChecker = Checker{}

// CheckInline validates a permission set's inline policy: the size limits
// of spec/iam-policy.md §1, then the strict grammar. The error is a
// *policy.Error whose message reads like IAM's MalformedPolicyDocument
// messages ("Statement[0]: Condition: unknown operator ...").
func (Checker) CheckInline(doc string) error {
	data := []byte(doc)
	if err := policy.CheckInlineSize(data); err != nil {
		return err
	}
	return checkGrammar(data)
}

// CheckCustomer validates a customer-managed policy document: IAM's limit of
// 6,144 non-whitespace characters, then the strict grammar.
func (Checker) CheckCustomer(doc string) error {
	data := []byte(doc)
	if err := policy.CheckManagedSize(data); err != nil {
		return err
	}
	return checkGrammar(data)
}

func checkGrammar(data []byte) error {
	d, err := policy.ParseStrict(data)
	if err != nil {
		return err
	}
	_, err = policy.Compile(d)
	return err
}

// KnownManaged reports whether arn names an AWS managed policy Gatehouse
// ships, so that it can be evaluated.
func (Checker) KnownManaged(arn string) bool {
	_, ok := managed.Lookup(arn)
	return ok
}
