package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/schemagate/schemagate/internal/deploy"
)

// WindowOptions are the inputs of `schemagate window`.
type WindowOptions struct {
	Env        string
	ConfigFile string
	Count      int
	// Now overrides the clock (tests; RFC 3339).
	Now string
}

func (a *App) newWindowCmd() *cobra.Command {
	o := &WindowOptions{}
	cmd := &cobra.Command{
		Use:   "window --env NAME [--count N]",
		Short: "Print the next maintenance windows of an environment",
		Long: `window prints whether the environment's maintenance window is open now and when the next ones
open and close, in the windows' time zone and in UTC, with blackouts taken out.`,
		Example: `  schemagate window --env production --count 5`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runWindow(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Env, "env", "", "environment name from schemagate.yml (required)")
	f.StringVar(&o.ConfigFile, "config", "", "configuration file (default ./schemagate.yml)")
	f.IntVar(&o.Count, "count", 5, "how many windows to print")
	f.StringVar(&o.Now, "now", "", "pretend it is this time (RFC 3339)")
	_ = f.MarkHidden("now")
	return cmd
}

func (a *App) runWindow(o *WindowOptions) error {
	_, env, err := a.deployEnv(o.ConfigFile, o.Env, false)
	if err != nil {
		return err
	}
	if o.Count < 1 {
		return usageErr(fmt.Errorf("--count must be at least 1"))
	}
	sched, err := deploy.NewSchedule(env)
	if err != nil {
		return usageErr(err)
	}
	now := time.Now()
	if o.Now != "" {
		if now, err = time.Parse(time.RFC3339, o.Now); err != nil {
			return usageErr(fmt.Errorf("--now: %w", err))
		}
	}
	loc, err := env.Location()
	if err != nil {
		return usageErr(err)
	}
	// Each window is shown in its own zone (its time_zone, else the environment's), as it is written: the
	// schedule computes its times there. Periods between blackouts are the environment's.
	zone := func(iv deploy.Interval) *time.Location {
		if sched.Always() {
			return loc
		}
		return iv.Start.Location()
	}
	next := sched.Next(now, o.Count)
	bo, blackout := sched.Blackout(now)
	switch iv, open := sched.Open(now); {
	case sched.Always() && open && len(next) == 0:
		fmt.Fprintf(a.Stdout, "%s has no maintenance windows: deploys may run at any time\n", o.Env)
		return nil
	case sched.Always() && open:
		fmt.Fprintf(a.Stdout, "%s has no maintenance windows: deploys may run at any time but in its blackouts\n", o.Env)
	case sched.Always():
		fmt.Fprintf(a.Stdout, "%s has no maintenance windows, but it is in the %s\n", o.Env, bo)
	case open && iv.OpenAfter:
		// Its end is the horizon, not where it closes: the deploy reads the same end.
		fmt.Fprintf(a.Stdout, "open now, and stays open for at least %s (until %s): the windows run back to back, and schemagate looks no further ahead\n",
			days(iv.End.Sub(now)), iv.End.In(zone(iv)).Format(time.RFC3339))
	case open:
		fmt.Fprintf(a.Stdout, "open now, until %s (%s left)\n", iv.End.In(zone(iv)).Format(time.RFC3339), iv.End.Sub(now).Round(time.Second))
		if _, ok, _ := sched.Startable(now); !ok {
			fmt.Fprintf(a.Stdout, "but less than min_window_left (%s) is left: no migration starts in it\n", sched.MinLeft())
		}
	case blackout:
		fmt.Fprintf(a.Stdout, "closed now: in the %s\n", bo)
	default:
		fmt.Fprintln(a.Stdout, "closed now")
	}
	if len(next) == 0 {
		fmt.Fprintln(a.Stdout, "no window opens in the next two years")
		return nil
	}
	for _, iv := range next {
		z := zone(iv)
		if sched.Always() && iv.OpenAfter {
			fmt.Fprintf(a.Stdout, "%s  on  (UTC %s)\n", iv.Start.In(z).Format("Mon 2006-01-02 15:04 MST"), iv.Start.UTC().Format("2006-01-02 15:04"))
			continue
		}
		if iv.OpenBefore || iv.OpenAfter {
			// Windows that run back to back, followed as far as schemagate looks: a bound is not an
			// opening or a closing, nor its distance a length.
			from, to := iv.Start.In(z).Format("Mon 2006-01-02 15:04 MST"), iv.End.In(z).Format("Mon 2006-01-02 15:04 MST")
			if iv.OpenBefore {
				from = "before " + from
			}
			if iv.OpenAfter {
				to = "beyond " + to
			}
			fmt.Fprintf(a.Stdout, "%s  to  %s  (the windows run back to back; UTC %s)\n", from, to, iv.Start.UTC().Format("2006-01-02 15:04"))
			continue
		}
		// A period that starts now lasts a fraction of a second more or less: whole seconds are shown.
		fmt.Fprintf(a.Stdout, "%s  to  %s  (%s; UTC %s)\n", iv.Start.In(z).Format("Mon 2006-01-02 15:04 MST"),
			iv.End.In(z).Format("Mon 2006-01-02 15:04 MST"), iv.End.Sub(iv.Start).Round(time.Second), iv.Start.UTC().Format("2006-01-02 15:04"))
	}
	// A window open past the horizon leaves no room for another: no shortage.
	if len(next) < o.Count && !sched.Always() && !next[len(next)-1].OpenAfter {
		fmt.Fprintf(a.Stdout, "(only %d of the %d windows asked for open in the next two years; schemagate looks no further ahead)\n", len(next), o.Count)
	}
	return nil
}

// days says a long duration in whole days.
func days(d time.Duration) string {
	if n := int(d / (24 * time.Hour)); n != 1 {
		return fmt.Sprintf("%d days", n)
	}
	return "1 day"
}
