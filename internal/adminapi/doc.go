// Package adminapi serves the AWS admin APIs of Identity Center over
// awsJson1_1 (awsproto.JSONService): sso-admin (SWBExternalService),
// identitystore (AWSIdentityStore), organizations (AWSOrganizationsV20161128)
// and cloudtrail (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101),
// one file per service. The rules stay in the domain packages (directory,
// access); this package decodes, authenticates, authorizes and audits.
//
// Every call takes the same path (see op): SigV4 authentication with the
// service's signing name (awsauth), then only callers in the management
// account (or a registered delegated-admin account) may go on, then the
// policy engine decides the IAM action on the operation's resource ARNs over
// the caller's permission set (authz), and a denial is an
// AccessDeniedException "User: <arn> is not authorized to perform: <action>
// on resource: <arn>" (AWS's message form). Every call, allowed or refused,
// is an audit event: refused authentication by awsauth, denials by the
// authorizer, successful changes by the domain service in the change's
// transaction, everything else (reads, failures) here.
package adminapi
