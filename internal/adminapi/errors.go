package adminapi

import (
	"errors"

	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// errorFor is the one mapping of admin API errors onto awsJson1_1 errors
// (botocore sso-admin, identitystore, organizations and cloudtrail models):
// protocol errors as they are, signature failures per spec/aws-wire.md
// §2.8, invalid policy documents as ValidationException, domain faults by
// kind with their ResourceType/ResourceId/Reason members, anything else
// InternalServerException. ErrorFor(nil) is nil.
func errorFor(err error) *awsproto.Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*awsproto.Error](err); ok {
		return e
	}
	if e, ok := errors.AsType[*policy.Error](err); ok {
		return &awsproto.Error{Code: "ValidationException", Message: e.Error(), Err: err}
	}
	f := fault.As(err)
	if f.Kind == fault.Internal {
		return awsproto.ErrorFor(awsproto.ProtocolJSON, err)
	}
	return &awsproto.Error{Code: f.Kind.String(), Message: f.Message, Reason: f.Reason,
		ResourceType: f.ResourceType, ResourceID: f.ResourceID, Err: err}
}
