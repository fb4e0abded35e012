package adminapi

// organizationsOps returns the organizations operations by name (without the target prefix).
func (s *Service) organizationsOps() map[string]operation {
	return map[string]operation{}
}
