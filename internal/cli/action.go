package cli

import "github.com/spf13/cobra"

// newActionCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newActionCmd() *cobra.Command { return nil }
