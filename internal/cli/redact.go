package cli

import (
	"io"
	"strings"

	"github.com/schemagate/schemagate/internal/redact"
	"github.com/schemagate/schemagate/internal/report"
	"github.com/schemagate/schemagate/internal/sandbox"
)

// What schemagate publishes (the reports, the comment, the job summary, annotations and every line it
// prints) quotes what the rehearsal's server said, and a pull request's migration runs there as a
// superuser: it can read a file or setting that holds a token and raise it as its error. The secrets
// schemagate can see are hidden in all of it (redact.Redactor): on the streams by newRedactWriter's writer, which
// every line goes through, and in a report model before it is rendered (redactReport), where a
// rendering's escaping would otherwise spell a secret another way than the server did.

// secretVars are the variables that hold schemagate's tokens and database URLs, read whatever their
// length: the tokens the action, comment, gate and deploy use and the database URLs of the rehearsal
// and of the deploy's default environment.
var secretVars = []string{"GITHUB_TOKEN", "GH_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_TOKEN", "INPUT_DATABASE-URL",
	"GITLAB_TOKEN", "CI_JOB_TOKEN", "SCHEMAGATE_DATABASE_URL"}

// secretWords name the other variables whose values are taken for secrets, at least secretMinLen long
// (a shorter one, such as PASSWORD_RESET=off, would hide a common word everywhere).
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD"}

const secretMinLen = 8

// newRedactor is the redactor of what the environment holds: the values of secretVars, of every variable
// named like a secret (secretWords), and the passwords of every variable's connection string named
// *DATABASE_URL* (SCHEMAGATE_PROD_DATABASE_URL, an environment's database_url_env). environ lists the
// environment as os.Environ does; nil reads secretVars alone (tests substitute Getenv).
func newRedactor(getenv func(string) string, environ func() []string) *redact.Redactor {
	var secrets []string
	for _, k := range secretVars {
		if v := getenv(k); strings.Contains(k, "DATABASE") {
			secrets = append(secrets, sandbox.URLSecrets(v)...)
		} else {
			secrets = append(secrets, v)
		}
	}
	if environ != nil {
		for _, kv := range environ() {
			k, v, _ := strings.Cut(kv, "=")
			up := strings.ToUpper(k)
			switch {
			case strings.Contains(up, "DATABASE_URL"):
				secrets = append(secrets, sandbox.URLSecrets(v)...)
			case len(strings.TrimSpace(v)) >= secretMinLen && hasSecretWord(up):
				secrets = append(secrets, v)
			}
		}
	}
	return redact.New(secrets...)
}

func hasSecretWord(name string) bool {
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// hideSecrets adds secrets schemagate was given on its command line or in its inputs (a --token, a
// --database-url's password) to what it hides.
func (a *App) hideSecrets(secrets ...string) {
	if a.redactor != nil {
		a.redactor.Add(secrets...)
	}
}

// redactReport hides the secrets in rep before it is written or rendered, and marks it Redacted when it
// held any, which the renderings say.
func (a *App) redactReport(rep *report.Report) {
	if rep != nil && a.redactor.Value(rep) {
		rep.Redacted = true
	}
}

// newRedactWriter hides secrets in what goes through it to w, line by line (see lineWriter). keep,
// when set, passes the lines it accepts as they are (the ::add-mask:: command that tells the runner a
// secret, which must name it). A line that may hold a token's shape is read by a regular expression (see
// redact.Redactor.String), and one such line must not make the whole of a large output (lint --json of a
// large folder writes tens of MB at once) read so.
func newRedactWriter(w io.Writer, r *redact.Redactor, keep func(string) bool) *lineWriter {
	return &lineWriter{w: w, edit: func(s string) string {
		var b strings.Builder
		b.Grow(len(s))
		for _, line := range strings.SplitAfter(s, "\n") {
			if keep != nil && keep(line) {
				b.WriteString(line)
			} else {
				b.WriteString(r.String(line))
			}
		}
		return b.String()
	}}
}

// addMask tells the ::add-mask:: command that the action writes itself (see commandOut): every other
// line that could read as one reaches the stream through the command guard, which quotes it.
func addMask(line string) bool { return strings.HasPrefix(line, "::add-mask::") }
