package adminapi

import (
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
)

// errorFor maps admin API errors onto awsJson1_1 errors with the one
// mapping of that protocol, awsproto.ErrorFor(awsproto.ProtocolJSON, err):
// protocol errors as they are, signature failures per spec/aws-wire.md
// §2.8, invalid policy documents as ValidationException, domain faults by
// kind with their ResourceType/ResourceId/Reason members, anything else
// InternalServerException. errorFor(nil) is nil.
func errorFor(err error) *awsproto.Error {
	return awsproto.ErrorFor(awsproto.ProtocolJSON, err)
}
