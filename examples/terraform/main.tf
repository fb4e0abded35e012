# Gatehouse with Terraform: the admin tutorial's steps as a configuration.
#
# The stock hashicorp/aws provider manages Gatehouse through the AWS APIs;
# only the endpoints block differs from a configuration for AWS. Sign in as an
# admin of the management account first (for example `aws sso login --profile
# mgmt` and AWS_PROFILE=mgmt, or the access key of an automation user), then:
#
#     terraform init
#     terraform apply -var gatehouse_url=https://gatehouse.example.com
#
# The customer-managed policy "deploy-boundary" must exist in the target
# account before the assignment is made (`aws iam create-policy` signed into
# that account, or a world file's customer_policies).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

variable "gatehouse_url" {
  description = "Gatehouse's base URL, e.g. https://gatehouse.example.com"
  type        = string
}

variable "account_id" {
  description = "The account the new team is assigned to"
  type        = string
  default     = "111111111111"
}

variable "region" {
  description = "Gatehouse's region (its `region` setting)"
  type        = string
  default     = "us-east-1"
}

provider "aws" {
  region = var.region

  # Every API Terraform calls here is served by Gatehouse.
  endpoints {
    identitystore = var.gatehouse_url
    iam           = var.gatehouse_url
    organizations = var.gatehouse_url
    ssoadmin      = var.gatehouse_url
    sts           = var.gatehouse_url
  }

  # No EC2 instance metadata service to ask for credentials or the region.
  skip_metadata_api_check = true
}

# The instance and its identity store.
data "aws_ssoadmin_instances" "this" {}

locals {
  instance_arn      = tolist(data.aws_ssoadmin_instances.this.arns)[0]
  identity_store_id = tolist(data.aws_ssoadmin_instances.this.identity_store_ids)[0]
}

# An existing user, looked up by user name.
data "aws_identitystore_user" "admin" {
  identity_store_id = local.identity_store_id

  alternate_identifier {
    unique_attribute {
      attribute_path  = "UserName"
      attribute_value = "alice@company.com"
    }
  }
}

# A new developer and their team.
resource "aws_identitystore_user" "ed2" {
  identity_store_id = local.identity_store_id
  user_name         = "ed2.developer"
  display_name      = "Ed Two"

  name {
    given_name  = "Ed"
    family_name = "Two"
  }

  emails {
    value   = "ed2@example.com"
    type    = "work"
    primary = true
  }
}

resource "aws_identitystore_group" "platform" {
  identity_store_id = local.identity_store_id
  display_name      = "Platform"
  description       = "Platform team"
}

resource "aws_identitystore_group_membership" "ed2_platform" {
  identity_store_id = local.identity_store_id
  group_id          = aws_identitystore_group.platform.group_id
  member_id         = aws_identitystore_user.ed2.user_id
}

# A permission set: eight-hour sessions with PowerUserAccess, an inline
# policy and a customer-managed policy of the account.
resource "aws_ssoadmin_permission_set" "deploy" {
  instance_arn     = local.instance_arn
  name             = "DeployTeam"
  description      = "Deploys to dev"
  session_duration = "PT8H"
  relay_state      = "https://console.aws.amazon.com/console/home"

  tags = {
    team = "platform"
  }
}

resource "aws_ssoadmin_managed_policy_attachment" "power_user" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  managed_policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

resource "aws_ssoadmin_permission_set_inline_policy" "deploy" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  inline_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "DenyLeavingRegion"
      Effect   = "Deny"
      Action   = "*"
      Resource = "*"
      Condition = {
        StringNotEquals = { "aws:RequestedRegion" = [var.region] }
      }
    }]
  })
}

resource "aws_ssoadmin_customer_managed_policy_attachment" "boundary" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn

  customer_managed_policy_reference {
    name = "deploy-boundary"
    path = "/"
  }
}

# The team gets the permission set on the account. The attachments come
# first so the role is provisioned with all its policies.
resource "aws_ssoadmin_account_assignment" "platform_dev" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deploy.arn
  principal_type     = "GROUP"
  principal_id       = aws_identitystore_group.platform.group_id
  target_type        = "AWS_ACCOUNT"
  target_id          = var.account_id

  depends_on = [
    aws_ssoadmin_managed_policy_attachment.power_user,
    aws_ssoadmin_permission_set_inline_policy.deploy,
    aws_ssoadmin_customer_managed_policy_attachment.boundary,
  ]
}

# A pipeline's automation user in the management account (where the
# provider's credentials are), with an AWS managed policy and a long-lived
# access key. Terraform keeps the secret in its state: protect the state.
resource "aws_iam_user" "ci" {
  name = "platform-ci"
  path = "/ci/"

  tags = {
    team = "platform"
  }
}

resource "aws_iam_user_policy_attachment" "ci_read" {
  user       = aws_iam_user.ci.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

output "instance_arn" {
  value = local.instance_arn
}

output "admin_user_id" {
  value = data.aws_identitystore_user.admin.user_id
}

output "ed2_user_id" {
  value = aws_identitystore_user.ed2.user_id
}

output "platform_group_id" {
  value = aws_identitystore_group.platform.group_id
}

output "permission_set_arn" {
  value = aws_ssoadmin_permission_set.deploy.arn
}

output "ci_access_key_id" {
  value = aws_iam_access_key.ci.id
}

output "ci_secret_access_key" {
  value     = aws_iam_access_key.ci.secret
  sensitive = true
}
