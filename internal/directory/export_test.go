package directory

// HashRuns returns how many argon2id hashes VerifyPassword has computed.
func HashRuns() int64 { return hashRuns.Load() }

// DummyHash is the hash an unknown user's sign-in is verified against.
const DummyHash = dummyHash
