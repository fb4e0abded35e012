package adminapi

// identityStoreOps returns the identitystore operations by name (without the target prefix).
func (s *Service) identityStoreOps() map[string]operation {
	return map[string]operation{}
}
