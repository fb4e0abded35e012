package policy

// CheckInline validates a permission set's inline policy as the
// PutInlinePolicyToPermissionSet API does: the size limits of
// CheckInlineSize, then the strict grammar and compilation. The error is an
// *Error whose message reads like IAM's MalformedPolicyDocument messages
// ("Statement[0]: Condition: unknown operator ...").
func CheckInline(doc []byte) error {
	if err := CheckInlineSize(doc); err != nil {
		return err
	}
	return checkGrammar(doc)
}

// CheckCustomer validates a customer-managed policy document as IAM's
// CreatePolicy does: at most MaxManagedNonSpace non-whitespace characters,
// then the strict grammar and compilation.
func CheckCustomer(doc []byte) error {
	if err := CheckManagedSize(doc); err != nil {
		return err
	}
	return checkGrammar(doc)
}

func checkGrammar(data []byte) error {
	d, err := ParseStrict(data)
	if err != nil {
		return err
	}
	_, err = Compile(d)
	return err
}
