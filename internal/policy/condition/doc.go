// Package condition implements the operators of the IAM policy Condition
// element (spec/iam-policy.md §3): one file per operator family, the
// IfExists suffix and the ForAllValues:/ForAnyValue: set qualifiers.
//
// It also holds the pieces the policy engine shares with the operators: the
// request Context, the glob and ARN matchers and compiled policy-variable
// Patterns. Everything here is pure and, once compiled, evaluates without
// allocating.
package condition
