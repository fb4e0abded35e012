package server

// OnSweep makes RunBackground call f after each sweep.
func (s *Server) OnSweep(f func(SweepResult, error)) { s.afterSweep = f }
