// Package policy parses, validates, compiles and evaluates IAM JSON identity
// policies — permission-set policies, permissions boundaries and session
// policies — as spec/iam-policy.md describes. It is pure: no I/O, no clock,
// no globals.
//
// The flow is Parse (or ParseStrict) into a Document, Compile into an
// immutable, concurrency-safe Policy, and Evaluate a Set of policies against
// a Request. Compiled policies evaluate without allocating; Set.Decide is
// the allocation-free path, Set.Evaluate also reports the matched statements
// and the missing context keys, as the IAM policy simulator does.
//
// Condition operators, the request Context and the glob/ARN matchers live in
// the condition subpackage; the AWS managed policies in managed.
package policy
