// Package authz authorizes calls made with Gatehouse role credentials to
// Gatehouse's own SigV4 APIs, using the policy engine of package policy
// (spec/iam-policy.md, DESIGN §7).
//
// Two pieces (validating policy input is package access's job, with
// policy.CheckInline, policy.CheckCustomer and the managed catalogue):
//
//   - Policies resolves and compiles the effective policy of a permission set
//     in an account — its AWS managed policies, its customer-managed policy
//     references resolved to the documents stored for that account, its
//     inline policy, bounded by its permissions boundary — once per
//     (permission set, Version, account, customer policies' UpdatedAt), so a
//     decision costs microseconds and no allocation.
//   - Authorizer decides a request of a role session (with the request
//     context that NewContext fills per spec/iam-policy.md §5) and turns a
//     denial into AWS's AccessDenied message plus an audit event.
package authz
