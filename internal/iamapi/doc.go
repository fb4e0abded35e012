// Package iamapi serves the subset of the IAM API (awsQuery, namespace
// https://iam.amazonaws.com/doc/2010-05-08/) that makes sense for Identity
// Center roles: the policy simulator (SimulateCustomPolicy,
// SimulatePrincipalPolicy) and GetRole/ListRoles over the provisioned
// AWSReservedSSO_ roles of the caller's account.
//
// Requests are authenticated with Gatehouse role credentials (SigV4, service
// iam, through sts.Service.Authenticate) and authorized by the caller's own
// permission set in the caller's account (authz.Authorizer), so a
// PowerUserAccess session is refused iam:SimulateCustomPolicy as it is on
// AWS. Every call is audited. Other actions are InvalidAction.
//
// Response shapes follow the IAM model in botocore
// (data/iam/2010-05-08/service-2.json); statement positions follow the AWS
// CLI's documented simulate-custom-policy output.
package iamapi
