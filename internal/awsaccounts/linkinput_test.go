package awsaccounts_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
)

// TestLinkInputShapes checks the shape limits of LinkAccount's fields that
// are stored and audited: each bounded as IAM and STS bound them, and
// every AWS region name form accepted.
func TestLinkInputShapes(t *testing.T) {
	base := awsaccounts.LinkInput{AccountID: "111111111111", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "secret"}
	for _, region := range []string{"us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "ap-southeast-5"} {
		in := base
		in.Region = region
		if err := awsaccounts.CheckLinkInput(in); err != nil {
			t.Errorf("region %s refused: %v", region, err)
		}
	}
	for _, tc := range []struct {
		name, want string
		edit       func(*awsaccounts.LinkInput)
	}{
		{"long region", "Region", func(in *awsaccounts.LinkInput) { in.Region = "us" + strings.Repeat("-east", 10000) + "-1" }},
		{"region without number", "Region", func(in *awsaccounts.LinkInput) { in.Region = "us-east" }},
		{"long role path", "RoleName", func(in *awsaccounts.LinkInput) { in.RoleName = "/" + strings.Repeat("p", 600) + "/Admin" }},
		{"long role ARN", "RoleArn", func(in *awsaccounts.LinkInput) {
			in.RoleARN = "arn:aws:iam::111111111111:role/" + strings.Repeat("p/", 1100) + "Admin"
		}},
	} {
		in := base
		tc.edit(&in)
		err := awsaccounts.CheckLinkInput(in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 1000 {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	in := base
	in.RoleName = "/" + strings.Repeat("p", 400) + "/Admin"
	if err := awsaccounts.CheckLinkInput(in); err != nil {
		t.Errorf("a 400-character path refused: %v", err)
	}
}
