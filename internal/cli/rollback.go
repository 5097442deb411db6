package cli

import "github.com/spf13/cobra"

// newRollbackScriptCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newRollbackScriptCmd() *cobra.Command { return nil }
