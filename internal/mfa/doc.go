// Package mfa holds Gatehouse's second factors: time-based one-time
// passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps) with replay
// protection, their enrolment, and their verification at sign-in.
//
// TOTP seeds are secrets at rest (DESIGN §4): they are stored only sealed
// with the keyring's PurposeSecrets key, bound to the user they belong to.
package mfa
