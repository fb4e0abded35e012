// Package arn formats and parses the identifiers Gatehouse hands out: AWS
// account IDs, instance and permission-set ARNs, identity-store IDs, the
// AWSReservedSSO_ role names and ARNs, access key IDs and request IDs. The
// formats are those of ../shared/spec/identifiers.md, which follows what AWS
// produces so that Terraform state and IAM policies written for AWS keep
// working.
package arn
