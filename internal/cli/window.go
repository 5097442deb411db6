package cli

import "github.com/spf13/cobra"

// newWindowCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newWindowCmd() *cobra.Command { return nil }
