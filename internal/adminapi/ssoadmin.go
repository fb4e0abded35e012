package adminapi

import (
	"context"
	"maps"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// ssoAdminOps returns the sso-admin operations (botocore sso-admin
// 2020-07-20) by name.
func (s *Service) ssoAdminOps() map[string]operation {
	ops := map[string]operation{
		"ListInstances":    op("sso:ListInstances", true, nil, s.listInstances),
		"DescribeInstance": op("sso:DescribeInstance", true, s.instanceResource, s.describeInstance),
	}
	maps.Copy(ops, s.ssoPermissionOps())
	return ops
}

// InstanceMetadata is sso-admin's InstanceMetadata.
type InstanceMetadata struct {
	InstanceArn     string             `json:"InstanceArn"`
	IdentityStoreId string             `json:"IdentityStoreId"`
	OwnerAccountId  string             `json:"OwnerAccountId"`
	Name            string             `json:"Name,omitempty"`
	CreatedDate     awsproto.Timestamp `json:"CreatedDate,omitzero"`
	Status          string             `json:"Status"`
}

// instance returns the one instance of this deployment.
func (s *Service) instance() InstanceMetadata {
	in := s.Instance
	return InstanceMetadata{
		InstanceArn: arn.InstanceARN(in.InstanceID), IdentityStoreId: in.IdentityStoreID,
		OwnerAccountId: in.ManagementAccountID, Name: in.Name,
		CreatedDate: awsproto.Timestamp{Time: in.CreatedAt}, Status: "ACTIVE",
	}
}

// ListInstancesInput is sso-admin's ListInstancesRequest.
type ListInstancesInput struct {
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// ListInstancesOutput is sso-admin's ListInstancesResponse.
type ListInstancesOutput struct {
	Instances []InstanceMetadata `json:"Instances"`
	NextToken *string            `json:"NextToken,omitempty"`
}

func (s *Service) listInstances(_ context.Context, _ *awsauth.Caller, in *ListInstancesInput) (*ListInstancesOutput, error) {
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 100) {
		return nil, fault.Validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxResults)
	}
	if in.NextToken != nil {
		// One instance fits every page: no token is ever handed out.
		return nil, fault.Validationf("The NextToken is invalid.")
	}
	return &ListInstancesOutput{Instances: []InstanceMetadata{s.instance()}}, nil
}

// DescribeInstanceInput is sso-admin's DescribeInstanceRequest.
type DescribeInstanceInput struct {
	InstanceArn *string `json:"InstanceArn"`
}

// DescribeInstanceOutput is sso-admin's DescribeInstanceResponse.
type DescribeInstanceOutput = InstanceMetadata

// instanceResource checks InstanceArn and returns it as the resource the
// action is authorized on.
func (s *Service) instanceResource(_ context.Context, _ *awsauth.Caller, in *DescribeInstanceInput) ([]string, error) {
	if in.InstanceArn == nil {
		return nil, required("instanceArn")
	}
	if _, err := arn.ParseInstanceARN(*in.InstanceArn); err != nil {
		return nil, fault.Validationf("1 validation error detected: Value '%s' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}", *in.InstanceArn)
	}
	// Only the canonical ARN names the instance (another partition's
	// spelling is not found): policies see that ARN, never the caller's.
	canonical := arn.InstanceARN(s.Instance.InstanceID)
	if *in.InstanceArn != canonical {
		return nil, fault.NotFoundf("INSTANCE", *in.InstanceArn, "Instance %s does not exist.", *in.InstanceArn)
	}
	return []string{canonical}, nil
}

func (s *Service) describeInstance(_ context.Context, _ *awsauth.Caller, in *DescribeInstanceInput) (*DescribeInstanceOutput, error) {
	if *in.InstanceArn != arn.InstanceARN(s.Instance.InstanceID) {
		return nil, fault.NotFoundf("INSTANCE", *in.InstanceArn, "Instance %s does not exist.", *in.InstanceArn)
	}
	m := s.instance()
	return &m, nil
}
