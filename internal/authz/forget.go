package authz

// Forget drops every compiled effective policy, so that the next call of
// each permission set reads its customer-managed policies again. The IAM
// policy operations call it after changing a policy's document, so the
// change holds at once on the replica that made it (others notice within
// RecheckInterval).
func (p *Policies) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = nil
}
