package cli

import "github.com/spf13/cobra"

// newCheckCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newCheckCmd() *cobra.Command { return nil }
