package config

// validateSections collects the problems of the sections other packages own (approval, environments).
func (c *Config) validateSections() Problems {
	return nil
}
