// Package sigv4 verifies AWS Signature Version 4 request signatures, both the
// Authorization-header form and the presigned query-string form.
//
// The canonical request is rebuilt exactly as described in the AWS reference
// "Create a canonical request for Signature Version 4"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
// the path is URI-encoded once more on top of its wire encoding (the non-S3
// rule), the query string is sorted, only the headers named in SignedHeaders
// are included, and the payload is hashed with SHA-256. Failures are returned as
// *Error values whose Kind maps one-to-one onto the transport errors of
// spec/aws-wire.md §2.8; package awsproto turns them into wire errors.
//
// The package never logs, and secrets never appear in errors: derived signing
// keys are cached under a SHA-256 digest of the secret and scope.
package sigv4
