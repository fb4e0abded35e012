package sts

// WriteCallerIdentity exposes writeCallerIdentity to the external tests.
var WriteCallerIdentity = writeCallerIdentity

// EncodeEnvelope and DecodeEnvelope expose the envelope layout to the
// external tests.
var (
	EncodeEnvelope = encodeEnvelope
	DecodeEnvelope = decodeEnvelope
)
