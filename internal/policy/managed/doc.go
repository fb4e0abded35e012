// Package managed embeds the documents of the AWS managed IAM policies so
// that permission sets naming a managed policy evaluate as they do on AWS.
//
// The data is aws-managed-policies.json from /work/shared/data, a snapshot
// of 2026-08-22 of 1,568 policies (collected from iann0036/iam-dataset, with
// AdministratorAccess and PowerUserAccess from z0ph/MAMIP), stored
// gzip-compressed and decompressed lazily, once, on first use. Refresh it by
// replacing aws-managed-policies.json.gz with the gzip of a newer file of
// the same shape: {"<arn>": {"name", "version", "updated", "deprecated",
// "document"}}.
package managed
