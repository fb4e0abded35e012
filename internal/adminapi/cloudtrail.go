package adminapi

// cloudTrailOps returns the cloudtrail operations by name (without the target prefix).
func (s *Service) cloudTrailOps() map[string]operation {
	return map[string]operation{}
}
