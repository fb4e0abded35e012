package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

// TestParseErrors checks the type, position and message of validation
// errors, for the lenient and the strict parser.
func TestParseErrors(t *testing.T) {
	type wantErr struct {
		Statement int
		Sid       string
		Field     string
		Message   string
	}
	tests := []struct {
		name      string
		src       string
		strict    bool // only ParseStrict rejects it
		want      wantErr
		wantText  string
		wantCause error
	}{
		{
			name:      "malformed JSON",
			src:       `{"Version":"2012-10-17","Statement":[`,
			want:      wantErr{-1, "", "", "Syntax errors in policy: unexpected EOF"},
			wantText:  "Syntax errors in policy: unexpected EOF",
			wantCause: policy.ErrSyntax,
		},
		{
			name:      "trailing garbage",
			src:       doc(allowAll) + `x`,
			want:      wantErr{-1, "", "", "Syntax errors in policy: invalid character 'x' after top-level value"},
			wantText:  "Syntax errors in policy: invalid character 'x' after top-level value",
			wantCause: policy.ErrSyntax,
		},
		{
			name:     "Principal present",
			src:      doc(allowAll, `{"Sid":"Trust","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}`),
			want:     wantErr{1, "Trust", "Principal", "Policy document should not specify a principal"},
			wantText: `Statement[1] (Sid "Trust"): Principal: Policy document should not specify a principal`,
		},
		{
			name:     "NotPrincipal present",
			src:      doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"x"},"Action":"*","Resource":"*"}`),
			want:     wantErr{0, "", "NotPrincipal", "Policy document should not specify a principal"},
			wantText: `Statement[0]: NotPrincipal: Policy document should not specify a principal`,
		},
		{
			name:      "unknown operator",
			src:       doc(allowAll, `{"Sid":"DenyAll","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}`),
			strict:    true,
			want:      wantErr{1, "DenyAll", "Condition", `unknown operator "StringEqualz"`},
			wantText:  `Statement[1] (Sid "DenyAll"): Condition: unknown operator "StringEqualz"`,
			wantCause: condition.ErrUnknownOperator,
		},
		{
			name:     "bad Effect case",
			src:      doc(`{"Effect":"allow","Action":"*","Resource":"*"}`),
			want:     wantErr{0, "", "Effect", `Invalid effect "allow": must be "Allow" or "Deny"`},
			wantText: `Statement[0]: Effect: Invalid effect "allow": must be "Allow" or "Deny"`,
		},
		{
			name:     "missing Effect",
			src:      doc(`{"Sid":"S","Action":"*","Resource":"*"}`),
			want:     wantErr{0, "S", "Effect", "Missing required field Effect"},
			wantText: `Statement[0] (Sid "S"): Effect: Missing required field Effect`,
		},
		{
			name:     "missing Resource",
			src:      doc(allowAll, `{"Sid":"NoRes","Effect":"Allow","Action":"s3:GetObject"}`),
			want:     wantErr{1, "NoRes", "Resource", "Missing required field Resource"},
			wantText: `Statement[1] (Sid "NoRes"): Resource: Missing required field Resource`,
		},
		{
			name:     "missing Action",
			src:      doc(`{"Effect":"Allow","Resource":"*"}`),
			want:     wantErr{0, "", "Action", "Missing required field Action"},
			wantText: `Statement[0]: Action: Missing required field Action`,
		},
		{
			name:     "Action and NotAction",
			src:      doc(`{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}`),
			want:     wantErr{0, "", "NotAction", "Action and NotAction cannot both be present"},
			wantText: `Statement[0]: NotAction: Action and NotAction cannot both be present`,
		},
		{
			name:     "empty Action array",
			src:      doc(`{"Effect":"Allow","Action":[],"Resource":"*"}`),
			strict:   true,
			want:     wantErr{0, "", "Action", "Syntax errors in policy: Action must not be an empty array"},
			wantText: `Statement[0]: Action: Syntax errors in policy: Action must not be an empty array`,
		},
		{
			name:     "empty Resource array",
			src:      doc(`{"Sid":"E","Effect":"Allow","Action":"*","Resource":[]}`),
			strict:   true,
			want:     wantErr{0, "E", "Resource", "Syntax errors in policy: Resource must not be an empty array"},
			wantText: `Statement[0] (Sid "E"): Resource: Syntax errors in policy: Resource must not be an empty array`,
		},
		{
			name:     "unknown element",
			src:      doc(`{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}`),
			strict:   true,
			want:     wantErr{0, "", "Conditions", "Unknown field Conditions"},
			wantText: `Statement[0]: Conditions: Unknown field Conditions`,
		},
		{
			name:     "unknown top-level element",
			src:      `{"Version":"2012-10-17","Statements":[],"Statement":[` + allowAll + `]}`,
			strict:   true,
			want:     wantErr{-1, "", "Statements", "Unknown field Statements"},
			wantText: `Statements: Unknown field Statements`,
		},
		{
			name:     "duplicate key",
			src:      doc(`{"Effect":"Allow","Action":"s3:*","Action":"iam:*","Resource":"*"}`),
			strict:   true,
			want:     wantErr{0, "", "Action", "Duplicate field Action"},
			wantText: `Statement[0]: Action: Duplicate field Action`,
		},
		{
			name:     "duplicate Sid",
			src:      doc(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}`, `{"Sid":"A","Effect":"Deny","Action":"iam:*","Resource":"*"}`),
			strict:   true,
			want:     wantErr{1, "A", "Sid", "Statement IDs (SID) in a single policy must be unique: also used by Statement[0]"},
			wantText: `Statement[1] (Sid "A"): Sid: Statement IDs (SID) in a single policy must be unique: also used by Statement[0]`,
		},
		{
			name:     "bad Sid characters",
			src:      doc(`{"Sid":"allow-all","Effect":"Allow","Action":"*","Resource":"*"}`),
			strict:   true,
			want:     wantErr{0, "allow-all", "Sid", "Statement IDs (SID) must be alpha-numeric"},
			wantText: `Statement[0] (Sid "allow-all"): Sid: Statement IDs (SID) must be alpha-numeric`,
		},
		{
			name:      "unparseable numeric literal",
			src:       doc(`{"Sid":"N","Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"an hour"}}}`),
			strict:    true,
			want:      wantErr{0, "N", "Condition", `NumericLessThan aws:MultiFactorAuthAge: invalid value "an hour" for NumericLessThan: not a number`},
			wantText:  `Statement[0] (Sid "N"): Condition: NumericLessThan aws:MultiFactorAuthAge: invalid value "an hour" for NumericLessThan: not a number`,
			wantCause: condition.ErrBadValue,
		},
		{
			name:     "bad CIDR literal",
			src:      doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/40"}}}`),
			strict:   true,
			want:     wantErr{0, "", "Condition", `IpAddress aws:SourceIp: invalid value "10.0.0.0/40" for IpAddress: not an IP address or CIDR block`},
			wantText: `Statement[0]: Condition: IpAddress aws:SourceIp: invalid value "10.0.0.0/40" for IpAddress: not an IP address or CIDR block`,
		},
		{
			name:     "action without vendor",
			src:      doc(`{"Effect":"Allow","Action":"GetObject","Resource":"*"}`),
			strict:   true,
			want:     wantErr{0, "", "Action", `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: "GetObject"`},
			wantText: `Statement[0]: Action: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: "GetObject"`,
		},
		{
			name:     "resource not an ARN",
			src:      doc(`{"Effect":"Allow","Action":"s3:*","Resource":"my-bucket"}`),
			strict:   true,
			want:     wantErr{0, "", "Resource", `Resource my-bucket must be in ARN format or "*"`},
			wantText: `Statement[0]: Resource: Resource my-bucket must be in ARN format or "*"`,
		},
		{
			name:     "wildcard in resource service segment",
			src:      doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3*:::b"}`),
			strict:   true,
			want:     wantErr{0, "", "Resource", `Resource arn:aws:s3*:::b must not use wildcards in its service segment`},
			wantText: `Statement[0]: Resource: Resource arn:aws:s3*:::b must not use wildcards in its service segment`,
		},
		{
			name:     "bad Version",
			src:      `{"Version":"2012-10-18","Statement":[` + allowAll + `]}`,
			want:     wantErr{-1, "", "Version", `The policy must contain a valid version string: "2012-10-18"`},
			wantText: `Version: The policy must contain a valid version string: "2012-10-18"`,
		},
		{
			name:     "no Statement",
			src:      `{"Version":"2012-10-17"}`,
			want:     wantErr{-1, "", "Statement", "Missing required field Statement"},
			wantText: `Statement: Missing required field Statement`,
		},
		{
			name:     "object condition value",
			src:      doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"a":"b"}}}}`),
			want:     wantErr{0, "", "Condition", "Syntax errors in policy: StringEquals k: a value must be a string, number or boolean, not object"},
			wantText: `Statement[0]: Condition: Syntax errors in policy: StringEquals k: a value must be a string, number or boolean, not object`,
		},
		{
			name:     "not an object",
			src:      `["Statement"]`,
			want:     wantErr{-1, "", "", "Syntax errors in policy: the document must be a JSON object, not array"},
			wantText: `Syntax errors in policy: the document must be a JSON object, not array`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, strictErr := policy.ParseStrict([]byte(tc.src))
			_, lenientErr := policy.Parse([]byte(tc.src))
			if tc.strict {
				if lenientErr != nil {
					t.Errorf("Parse rejected what only ParseStrict should: %v", lenientErr)
				}
			} else if lenientErr == nil {
				t.Errorf("Parse accepted the document")
			}
			e, ok := errors.AsType[*policy.Error](strictErr)
			if !ok {
				t.Fatalf("ParseStrict error = %v (%T), want *policy.Error", strictErr, strictErr)
			}
			got := wantErr{e.Statement, e.Sid, e.Field, e.Message}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if strictErr.Error() != tc.wantText {
				t.Errorf("Error() = %q, want %q", strictErr.Error(), tc.wantText)
			}
			if tc.wantCause != nil && !errors.Is(strictErr, tc.wantCause) {
				t.Errorf("error %v does not wrap %v", strictErr, tc.wantCause)
			}
		})
	}
}

// TestLenientAccepts lists forms IAM accepts that Parse must take.
func TestLenientAccepts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *policy.Document
	}{
		{
			name: "missing Version and single statement",
			src:  `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
			want: &policy.Document{Statements: []policy.Statement{{Effect: policy.EffectAllow, Action: []string{"s3:GetObject"}, Resource: []string{"*"}}}},
		},
		{
			name: "numbers and booleans as condition values",
			src:  doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600, 1.5]}}}`),
			want: &policy.Document{Version: "2012-10-17", Statements: []policy.Statement{{
				Effect: policy.EffectAllow, Action: []string{"*"}, Resource: []string{"*"},
				Conditions: []policy.Condition{
					{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
					{Operator: "NumericLessThan", Key: "aws:MultiFactorAuthAge", Values: []string{"3600", "1.5"}},
				},
			}}},
		},
		{
			name: "unknown element and duplicate key, last wins",
			src:  `{"Version":"2012-10-17","Id":"x","Extra":1,"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"a:b","Resource":["arn:aws:s3:::b"]}]}`,
			want: &policy.Document{Version: "2012-10-17", ID: "x", Statements: []policy.Statement{{Effect: policy.EffectAllow, Action: []string{"a:b"}, Resource: []string{"arn:aws:s3:::b"}}}},
		},
		{
			name: "empty arrays",
			src:  doc(`{"Effect":"Allow","Action":[],"Resource":[]}`),
			want: &policy.Document{Version: "2012-10-17", Statements: []policy.Statement{{Effect: policy.EffectAllow, Action: []string{}, Resource: []string{}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := policy.Parse([]byte(tc.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			if _, err := policy.Compile(got); err != nil {
				t.Errorf("Compile: %v", err)
			}
		})
	}
}

func TestCheckInlineSize(t *testing.T) {
	pad := func(n int, c string) []byte { return []byte(strings.Repeat(c, n)) }
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"small", []byte(doc(allowAll)), ""},
		{"exactly 10240 non-space", pad(10240, "a"), ""},
		{"10241 non-space", pad(10241, "a"), "Cannot exceed quota for PolicySize: 10241 non-whitespace characters, more than the 10240 allowed"},
		{"whitespace does not count", append(pad(10000, "a"), pad(6000, " \n\t")...), ""},
		{"32768 bytes", append(pad(10000, "a"), pad(22768, " ")...), ""},
		{"over 32768 bytes", append(pad(100, "a"), pad(32769, " ")...), "Cannot exceed quota for InlinePolicySize: 32869 bytes, more than the 32768 allowed"},
		{"multibyte counts characters", pad(10240, "é"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := policy.CheckInlineSize(tc.data)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckInlineSize: %v", err)
				}
				return
			}
			e, ok := errors.AsType[*policy.Error](err)
			if !ok {
				t.Fatalf("error = %v (%T), want *policy.Error", err, err)
			}
			if !errors.Is(err, policy.ErrTooLarge) {
				t.Errorf("error does not wrap ErrTooLarge")
			}
			if e.Error() != tc.wantErr {
				t.Errorf("Error() = %q, want %q", e.Error(), tc.wantErr)
			}
		})
	}
	if err := policy.CheckManagedSize(pad(6145, "a")); !errors.Is(err, policy.ErrTooLarge) {
		t.Errorf("CheckManagedSize(6145) = %v, want ErrTooLarge", err)
	}
	if err := policy.CheckManagedSize(pad(6144, "a")); err != nil {
		t.Errorf("CheckManagedSize(6144) = %v", err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"none", doc(allowAll), nil},
		{"missing Version", `{"Statement":[` + allowAll + `]}`, []string{"Version is missing: 2008-10-17 semantics apply and policy variables such as ${aws:username} are literal text"}},
		{"ForAllValues in Allow", doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"env"}}}`), []string{"Statement[0]: Condition: ForAllValues:StringEquals in an Allow is true when aws:TagKeys is absent or empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := policy.Parse([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, d.Warnings()); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrictDuplicates(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"top-level", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[` + allowAll + `]}`, "Version: Duplicate field Version"},
		{"operator", doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a":"true"},"Bool":{"b":"true"}}}`), "Statement[0]: Condition: Duplicate operator Bool"},
		{"condition key", doc(`{"Sid":"X","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a":"true","a":"false"}}}`), `Statement[0] (Sid "X"): Condition: Duplicate condition key a under Bool`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.ParseStrict([]byte(tc.src))
			if _, ok := errors.AsType[*policy.Error](err); !ok {
				t.Fatalf("error = %v (%T), want *policy.Error", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.want)
			}
			if _, err := policy.Parse([]byte(tc.src)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}
