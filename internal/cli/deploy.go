package cli

import "github.com/spf13/cobra"

// newDeployCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newDeployCmd() *cobra.Command { return nil }
