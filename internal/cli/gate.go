package cli

import "github.com/spf13/cobra"

// newGateCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newGateCmd() *cobra.Command { return nil }
