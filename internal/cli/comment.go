package cli

import "github.com/spf13/cobra"

// newCommentCmd is a placeholder until the command is built; returning nil leaves it out of the tree.
func (a *App) newCommentCmd() *cobra.Command { return nil }
