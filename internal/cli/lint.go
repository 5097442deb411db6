package cli

import "github.com/spf13/cobra"

// newLintCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newLintCmd() *cobra.Command { return nil }
