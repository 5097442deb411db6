// Package cli is schemagate's command tree. Each command has an options struct and a run function; exit
// codes are defined here and nowhere else. Only this package writes to stdout and stderr.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/ci"
	"github.com/schemagate/schemagate/internal/redact"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// Exit codes.
const (
	ExitOK      = 0 // all good
	ExitFailure = 1 // the tool itself failed
	ExitUsage   = 2 // usage or bad input
	ExitBlocked = 3 // a migration or round trip failed, or policy blocks the change
	ExitPending = 4 // DBA approval pending
)

// StopSignals are the signals that stop a run and let it clean up (main catches them): Ctrl-C, SIGTERM
// (a cancelled CI job) and SIGHUP (the terminal or ssh session that ran it went away), whose Go default
// would end the process at once, a deploy half done.
var StopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// SignalExit is the exit code of a run that signal s stopped and that ended with code: 128 plus the
// signal's number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), as shells and CI runners expect
// of an interrupted command, when the run ended as a failure (1), which is how a cancelled run ends. A
// run that finished its own way (0 done, 3 a deploy rolled back, ...) keeps its code: it says what the
// database is like.
func SignalExit(s os.Signal, code int) int {
	n, ok := s.(syscall.Signal)
	if !ok || code != ExitFailure {
		return code
	}
	return 128 + int(n)
}

// ExitError carries an exit code through cobra to Main.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageErr marks err as a usage or bad-input error (exit 2).
func usageErr(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// exitCode marks err with an exit code; a nil err with a non-zero code still exits with it.
func exitCode(code int, err error) error { return &ExitError{Code: code, Err: err} }

// App is what every command shares: its streams, environment and logger.
type App struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Getenv reads the environment (tests substitute it).
	Getenv func(string) string
	// Environ lists the environment as os.Environ does, for the secrets to hide (see newRedactor): nil
	// hides those of the variables schemagate reads itself.
	Environ func() []string
	Logger  *slog.Logger
	// Version is the build's version string.
	Version string
	// newSandbox, when set, stands for sandbox.New in check and rollback-script (tests only: a machine
	// without PostgreSQL server binaries or Docker).
	newSandbox func(name string, opts sandbox.Options) (sandbox.Provider, error)
	// rawStdout is Stdout before the workflow-command guard (see newCommandGuard), for the few workflow
	// commands a command writes on purpose (::add-mask::).
	rawStdout io.Writer
	// redactor hides the secrets schemagate can see in all it publishes (see newRedactWriter, redactReport).
	redactor *redact.Redactor
}

// commandOut is where a command writes workflow commands of its own: the unguarded stdout.
func (a *App) commandOut() io.Writer {
	if a.rawStdout != nil {
		return a.rawStdout
	}
	return a.Stdout
}

// Version is set at build time with -ldflags "-X github.com/schemagate/schemagate/internal/cli.Version=...".
var Version = "dev"

// Main runs schemagate with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdout: stdout, Stderr: stderr, Stdin: stdin, Getenv: os.Getenv, Environ: os.Environ, Version: Version}
	return app.Run(ctx, args)
}

// Run executes the command line and maps errors to exit codes.
func (a *App) Run(ctx context.Context, args []string) int {
	if a.Getenv == nil {
		a.Getenv = os.Getenv
		if a.Environ == nil {
			a.Environ = os.Environ
		}
	}
	// Every line either stream gets has its secrets hidden, under the workflow-command guard: what the
	// guard lets through as a command is the ::add-mask:: of a secret, which must name it.
	a.redactor = newRedactor(a.Getenv, a.Environ)
	var keep func(string) bool
	if a.Getenv("GITHUB_ACTIONS") == "true" {
		keep = addMask
	}
	redOut, redErr := newRedactWriter(a.Stdout, a.redactor, keep), newRedactWriter(a.Stderr, a.redactor, nil)
	if a.Stderr == a.Stdout {
		redErr = redOut // one stream stays one: the order of its lines is kept
	}
	a.Stdout, a.Stderr = redOut, redErr
	defer func() { redOut.Flush(); redErr.Flush() }()
	if a.Getenv("GITHUB_ACTIONS") == "true" {
		if len(args) == 0 || args[0] != "action" {
			out, errOut := newCommandGuard(a.Stdout), newCommandGuard(a.Stderr)
			a.rawStdout, a.Stdout, a.Stderr = a.Stdout, out, errOut
			defer func() { out.Flush(); errOut.Flush() }()
		} else {
			// The action writes everything to one stream, its log too (see runAction): what the
			// rehearsal logs inside ::stop-commands:: must not reach the runner after the resume. Its
			// own workflow commands go to the stream as they are (commandOut), every other line through
			// the guard: what it prints outside ::stop-commands:: (its last error, its log) may quote
			// the pull request or an input too, and the runner reads "##[" anywhere in a line.
			out := newCommandGuard(a.Stdout)
			a.rawStdout, a.Stdout, a.Stderr = a.Stdout, out, out
			defer out.Flush()
		}
	}
	level := slog.LevelInfo
	if a.Getenv("SCHEMAGATE_DEBUG") != "" || a.Getenv("RUNNER_DEBUG") == "1" {
		level = slog.LevelDebug
	}
	if a.Logger == nil {
		a.Logger = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: level}))
	}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	root.SetIn(a.Stdin)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if cmd == root && !isUsage(err) {
		// The root command runs nothing: its error is cobra's own, an unknown command.
		err = flagError{suggest(root, args, err)}
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil { // the message may quote the pull request: see clean
			fmt.Fprintf(a.Stderr, "schemagate: %s\n", cleanError(ee.Err))
			a.printHint(ee.Err)
		}
		return ee.Code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(a.Stderr, "schemagate: interrupted")
		return ExitFailure
	}
	// cobra's own flag and argument errors are usage errors.
	fmt.Fprintf(a.Stderr, "schemagate: %s\n", cleanError(err))
	a.printHint(err)
	if isUsage(err) {
		fmt.Fprintf(a.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return ExitUsage
	}
	return ExitFailure
}

// printHint prints what to do about err when an error in its chain says (a rate limit, a token that
// lacks a scope) and its message does not already.
func (a *App) printHint(err error) {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		if hint := h.Hint(); hint != "" && !strings.Contains(err.Error(), hint) {
			fmt.Fprintf(a.Stderr, "  hint: %s\n", clean(hint))
		}
	}
}

// suggest adds the commands the unknown one may have meant to cobra's error for it, on a line of their
// own. (cobra's own suggestions, "\n\nDid you mean this?\n\t...", are off: their blank line is no break
// that cleanMessage keeps, and would be printed escaped.)
func suggest(root *cobra.Command, args []string, err error) error {
	if len(args) == 0 || !strings.HasPrefix(err.Error(), "unknown command ") {
		return err
	}
	if s := root.SuggestionsFor(args[0]); len(s) > 0 {
		return fmt.Errorf("%w\n  did you mean %s?", err, strings.Join(s, " or "))
	}
	return err
}

type flagError struct{ error }

// prNumber is the value of a --pr flag: a pull request (GitLab: merge request IID) number, 1 or more.
// Unset, it stays 0, which the commands read as "from the event" (or --sha); a number below 1 given on
// purpose is refused, not taken for unset (comment would look the pull request up by an empty SHA).
type prNumber struct{ n *int }

func (p prNumber) String() string {
	if p.n == nil {
		return "0"
	}
	return strconv.Itoa(*p.n)
}

func (p prNumber) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return fmt.Errorf("want a pull or merge request number (1 or more), got %q", s)
	}
	*p.n = n
	return nil
}

func (prNumber) Type() string { return "int" }

// usageArgs makes the argument-count errors of cmd's subcommands (cobra.NoArgs' "unknown command",
// MaximumNArgs' "accepts at most") usage errors, as flag errors are.
func usageArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		if args := c.Args; args != nil {
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					// cobra.NoArgs calls a stray argument an unknown command, which a command without
					// subcommands has none of.
					if !c.HasSubCommands() && len(a) > 0 && strings.HasPrefix(err.Error(), "unknown command ") {
						err = fmt.Errorf("%s takes no arguments: unexpected argument %q", c.CommandPath(), a[0])
					}
					return flagError{err}
				}
				return nil
			}
		}
		usageArgs(c)
	}
}

func (e flagError) Unwrap() error { return e.error }

func isUsage(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

func (a *App) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "schemagate",
		Short: "Guard PostgreSQL schema migrations from pull request to production",
		Long: `schemagate rehearses migrations on a throwaway PostgreSQL, proves each one reversible,
classifies every statement safe / caution / dangerous, reports on the pull request, enforces DBA
approval, and deploys inside maintenance windows with a snapshot and automatic rollback.`,
		SilenceUsage:               true,
		SilenceErrors:              true,
		DisableSuggestions:         true, // see suggest
		SuggestionsMinimumDistance: 2,
		Version:                    a.Version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	root.SetHelpCommand(helpCmd())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		a.warnIgnoredImage(cmd)
		return a.trustContainerWorkspace(cmd)
	}
	for _, c := range []*cobra.Command{
		a.newCheckCmd(),
		a.newLintCmd(),
		a.newRulesCmd(),
		a.newInitCmd(),
		a.newGateCmd(),
		a.newCommentCmd(),
		a.newDeployCmd(),
		a.newWindowCmd(),
		a.newRollbackScriptCmd(),
		a.newActionCmd(),
	} {
		if c != nil {
			root.AddCommand(c)
		}
	}
	// cobra adds its completion command only when it runs; made now, it gets the usage errors (exit 2)
	// the other commands give: a shell it does not know, or an argument after the shell.
	// Its commands take their output at creation, not when they run: set it first.
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" && c.HasSubCommands() {
			c.Args = func(c *cobra.Command, args []string) error {
				if len(args) > 0 {
					var shells []string
					for _, sub := range c.Commands() {
						shells = append(shells, sub.Name())
					}
					return fmt.Errorf("unknown shell %q for %q: want one of %s", args[0], c.CommandPath(), strings.Join(shells, ", "))
				}
				return nil
			}
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() } // runnable, so Args is checked
		}
	}
	usageArgs(root)
	registerCompletions(root)
	return root
}

// helpCmd is cobra's help command, but an unknown topic is a usage error (exit 2), as an unknown
// command is: cobra's own prints "Unknown help topic" and exits 0.
func helpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type schemagate help [path to command] for full details.",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, _, err := c.Root().Find(args)
			if cmd == nil || err != nil {
				err := fmt.Errorf("unknown help topic %q", strings.Join(args, " "))
				if s := c.Root().SuggestionsFor(args[0]); len(s) > 0 {
					err = fmt.Errorf("%w\n  did you mean %s?", err, strings.Join(s, " or "))
				}
				return flagError{err}
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// warnIgnoredImage says that --image, which chooses the container of the docker provider, does nothing
// with a provider given as another (--provider, SCHEMAGATE_PROVIDER or --database-url): the rehearsal
// would otherwise run on another server than the one the user asked for, without a word.
// trustContainerWorkspace lets git trust the repositories of GitHub's mounted workspace when schemagate
// runs in a container step (`uses: docker://ghcr.io/schemagate/schemagate:v1`, as the gate and comment
// jobs of docs/github-action.md do): the workspace belongs to the runner's user and the container runs as
// root, so git refuses it ("detected dubious ownership"), a --base read fails and the policy reads of the
// base and target branches are silently skipped. The action entrypoint does the same itself (action.go);
// GitConfigEnv says why trusting every repository is sound there. Only in that container: GitHub mounts
// the workspace at /github/workspace for container steps and sets GITHUB_WORKSPACE to it.
func (a *App) trustContainerWorkspace(cmd *cobra.Command) error {
	if cmd.Name() == "action" || a.Getenv("GITHUB_ACTIONS") != "true" || a.Getenv("GITHUB_WORKSPACE") != "/github/workspace" {
		return nil
	}
	for _, kv := range ci.ReadGitHubEnv(a.Getenv).GitConfigEnv() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

func (a *App) warnIgnoredImage(cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("image"); f == nil || !f.Changed {
		return
	}
	provider, from := "", ""
	if f := cmd.Flags().Lookup("provider"); f != nil && f.Changed {
		provider, from = f.Value.String(), "--provider "+f.Value.String()
	} else if v := a.Getenv("SCHEMAGATE_PROVIDER"); v != "" {
		provider, from = v, "SCHEMAGATE_PROVIDER="+v
	} else if f := cmd.Flags().Lookup("database-url"); f != nil && f.Changed {
		provider, from = "url", "--database-url"
	}
	switch strings.ToLower(strings.TrimSpace(provider)) {
	case "local", "url":
		fmt.Fprintf(a.Stderr, "schemagate: --image applies to --provider docker only: ignored with %s\n", clean(from))
	}
}
