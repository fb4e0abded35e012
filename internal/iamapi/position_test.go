package iamapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStatementSpans(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []span
	}{
		{
			// The AWS CLI's documented simulate-custom-policy example.
			name: "aws cli example",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`,
			want: []span{{Start: Position{1, 38}, End: Position{1, 167}}},
		},
		{
			name: "array over lines, strings with braces and escapes",
			doc: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::b/{x}\\\"\"},\n" +
				"    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:Delete*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
			want: []span{
				{Start: Position{4, 6}, End: Position{4, 90}},
				{Start: Position{5, 6}, End: Position{9, 6}},
			},
		},
		{
			name: "non-ASCII counts characters",
			doc:  `{"Id":"é","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			want: []span{{Start: Position{1, 25}, End: Position{1, 70}}},
		},
		{name: "not an object", doc: `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, statementSpans(tt.doc)); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
		})
	}
}
