// Package signin holds the rules of signing in to the access portal:
// attempts and their limits, the password and TOTP checks under those
// limits, and the start of a portal session. The portal's pages only read
// forms, call this package and render its answers.
//
// Limits follow NIST SP 800-63B §5.2.2 (rate limiting): failed attempts are
// throttled per (user name, source address) with growing delays rather than
// a lockout any stranger can trigger; a user name has a hard limit of at
// most 100 consecutive failures, reset by a successful sign-in; a source
// address only throttles, and only at a volume far above one office's
// typos. A browser the user signed in from before carries a known-device
// cookie (sealed with the keyring, bound to the user): its attempts count in
// their own bucket, so failures from elsewhere never stop the user's right
// password from working there.
//
// Every attempt is reserved in the store before the password hash or code
// check it guards (store.Tx.ReserveAttempt), so the limits hold under any
// concurrency and on every replica; counter keys are keyed hashes, never the
// typed user name. Password hashes (argon2id, about 19 MiB each) run at
// most Limits.HashConcurrency at a time, with a short queue; the rest are
// refused as busy at once.
package signin
