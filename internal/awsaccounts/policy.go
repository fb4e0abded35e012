package awsaccounts

import (
	"encoding/json"
	"fmt"
	"strings"
)

// roleActions are the IAM actions provisioning needs on the permission
// sets' roles, all of which IAM authorizes on the role's ARN (IAM Service
// Authorization Reference, "Actions defined by AWS Identity and Access
// Management": resource type role).
var roleActions = []string{
	"iam:CreateRole", "iam:UpdateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateAssumeRolePolicy",
	"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
	"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
	"iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
	"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
}

// samlProviderActions manage Gatehouse's SAML provider, authorized on the
// provider's ARN (resource type saml-provider); TagSAMLProvider is needed
// because CreateSAMLProvider tags the provider it creates.
var samlProviderActions = []string{
	"iam:CreateSAMLProvider", "iam:UpdateSAMLProvider", "iam:GetSAMLProvider", "iam:DeleteSAMLProvider", "iam:TagSAMLProvider",
}

// LinkPolicy returns the IAM policy document (JSON, indented) a linking
// principal in accountID needs, and no more: the roles under Identity
// Center's path /aws-reserved/sso.amazonaws.com/ (where provisioning puts
// the permission sets' roles), reading customer-managed policies (to
// resolve a permission set's references), Gatehouse's own SAML provider
// (GatehouseSSO_*), and sts:GetCallerIdentity (the link check; AWS allows
// it to everyone, it is named for clarity).
func LinkPolicy(accountID string) []byte {
	type statement struct {
		Sid      string
		Effect   string
		Action   []string
		Resource string
	}
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{
		{"GatehousePermissionSetRoles", "Allow", roleActions, "arn:aws:iam::" + accountID + ":role/aws-reserved/sso.amazonaws.com/*"},
		{"GatehouseCustomerManagedPolicyReferences", "Allow", []string{"iam:GetPolicy"}, "arn:aws:iam::" + accountID + ":policy/*"},
		{"GatehouseSAMLProvider", "Allow", samlProviderActions, "arn:aws:iam::" + accountID + ":saml-provider/" + SAMLProviderPrefix + "*"},
		{"GatehouseLinkCheck", "Allow", []string{"sts:GetCallerIdentity"}, "*"},
	}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // a fixed shape of strings always marshals
	}
	return b
}

// LinkTerraform returns a Terraform configuration (hashicorp/aws
// provider) that creates the linking principal in accountID: an IAM user
// "gatehouse-link" with LinkPolicy attached. Its access key is made
// outside Terraform (aws iam create-access-key), so the secret never sits
// in Terraform state.
func LinkTerraform(accountID string) string {
	var b strings.Builder
	b.WriteString(`# Run with credentials of account ` + accountID + `, then create the user's
# access key outside Terraform so the secret stays out of the state:
#   aws iam create-access-key --user-name gatehouse-link
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

resource "aws_iam_user" "gatehouse_link" {
  name = "gatehouse-link"
  path = "/gatehouse/"
}

resource "aws_iam_policy" "gatehouse_link" {
  name        = "GatehouseLink"
  description = "What Gatehouse needs to provision permission-set roles and its SAML provider"
  policy      = <<-EOT
`)
	for _, line := range strings.Split(string(LinkPolicy(accountID)), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString(`  EOT
}

resource "aws_iam_user_policy_attachment" "gatehouse_link" {
  user       = aws_iam_user.gatehouse_link.name
  policy_arn = aws_iam_policy.gatehouse_link.arn
}
`)
	return b.String()
}

// LinkPolicyText is what `gatehouse accounts link-policy` prints: the
// policy document, then the Terraform configuration.
func LinkPolicyText(accountID string) string {
	return fmt.Sprintf("# IAM policy for the principal Gatehouse links account %s with:\n%s\n\n# Terraform (hashicorp/aws) creating that principal:\n%s",
		accountID, LinkPolicy(accountID), LinkTerraform(accountID))
}
