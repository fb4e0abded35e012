// Package awsproto implements the AWS wire protocols Gatehouse serves and the
// encoding of AWS errors:
//
//   - awsJson1_1 (sso-admin, identitystore, organizations): JSONService
//     dispatches POST / on X-Amz-Target to typed operations built with Op.
//   - restJson1 (sso-oidc, the access-portal API): WriteJSON and WriteError,
//     with the sso-oidc OAuth error bodies and the portal's {"message"} body.
//   - awsQuery (STS, IAM): ParseQueryRequest, WriteQueryResponse and
//     WriteQueryError.
//
// Error is the one protocol error type; ErrorFor is the one mapping of any
// error onto it for a Protocol: sigv4 verification failures
// (spec/aws-wire.md §2.8), invalid policy documents and the domain faults of
// package fault, each protocol's codes in one table (domainError). Handlers
// return errors; the API packages call ErrorFor where they write them.
// Every response carries x-amzn-RequestId; the Date header is added by
// net/http's server. Wire rules follow spec/aws-wire.md §2, and the error
// decoding of aws-sdk-go-v2 (service/ssoadmin/deserializers.go, smithy-go
// transport/http error handling), against which the tests run.
package awsproto
