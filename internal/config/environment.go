package config

// Environment is a deploy target (see the deploy package).
type Environment struct{}
