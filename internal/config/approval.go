package config

// Approval is the DBA approval policy (see the gate package).
type Approval struct{}
