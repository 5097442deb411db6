package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"

	"github.com/schemagate/schemagate/internal/report"
)

// AnnotationCap is how many annotations of each level GitHub shows per step; more are dropped by the
// runner, so schemagate sends the most severe ones itself.
const AnnotationCap = 10

// OwnAnnotations is how many annotations of each level Annotate leaves, within AnnotationCap, for the
// messages schemagate itself writes after the file annotations in the same step: the notice saying how
// many were left out, and one more (the comment skipped or not posted, the cause of a failure). The
// runner would drop them otherwise, and they are the ones that say what to do.
const OwnAnnotations = 2

// MaxSummaryBytes is the runner's limit for one step's job summary.
const MaxSummaryBytes = 1 << 20

// Actions writes workflow commands (annotations, masks, stop-commands) to the step's log and file
// commands (outputs, job summary) to the files the runner names.
type Actions struct {
	env *GitHubEnv
	w   io.Writer
	gha *githubactions.Action
	// shown counts the annotations written per level, schemagate's own included, against AnnotationCap.
	shown map[string]int
}

// NewActions returns an Actions writing workflow commands to w (the step's stdout).
func NewActions(env *GitHubEnv, w io.Writer) *Actions {
	getenv := func(string) string { return "" }
	if env != nil && env.getenv != nil {
		getenv = env.getenv
	}
	return &Actions{env: env, w: w, gha: githubactions.New(githubactions.WithWriter(w), githubactions.WithGetenv(getenv)), shown: map[string]int{}}
}

// SetOutputs appends outputs to GITHUB_OUTPUT, each as a heredoc whose delimiter occurs in no value.
func (a *Actions) SetOutputs(outputs map[string]string, keys ...string) error {
	if a.env == nil || a.env.OutputPath == "" {
		return fmt.Errorf("write outputs: GITHUB_OUTPUT is not set")
	}
	var b strings.Builder
	for _, k := range keys {
		v := outputs[k]
		if k == "" || strings.ContainsAny(k, "\r\n=<") {
			return fmt.Errorf("write outputs: bad output name %q", k)
		}
		delim, err := delimiter(v)
		if err != nil {
			return fmt.Errorf("write outputs: %w", err)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", k, delim, v, delim)
	}
	return appendFile(a.env.OutputPath, b.String())
}

// delimiter returns a random heredoc delimiter that does not occur in v.
func delimiter(v string) (string, error) {
	for range 10 {
		buf := make([]byte, 12)
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		d := "ghadelimiter_" + hex.EncodeToString(buf)
		if !strings.Contains(v, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no delimiter free in the value")
}

func appendFile(path, s string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	if _, err := f.WriteString(s); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SummaryRoom is how many bytes of Markdown AddSummary takes whole: the runner's 1 MiB limit less what
// the job summary file already holds (an earlier command of the same step) and a margin; 0 when full.
// A rendering bounded by it ends as it was made to, where AddSummary would cut it at a line.
func (a *Actions) SummaryRoom() int {
	if a.env == nil || a.env.SummaryPath == "" {
		return 0
	}
	used := int64(0)
	if st, err := os.Stat(a.env.SummaryPath); err == nil {
		used = st.Size()
	}
	return max(0, int(MaxSummaryBytes-used-200))
}

// AddSummary appends Markdown to the job summary (GITHUB_STEP_SUMMARY), cut at a line boundary to stay
// within the runner's 1 MiB limit together with what the file already holds (see SummaryRoom).
func (a *Actions) AddSummary(md string) error {
	if a.env == nil || a.env.SummaryPath == "" {
		return fmt.Errorf("write job summary: GITHUB_STEP_SUMMARY is not set")
	}
	room := a.SummaryRoom()
	if room <= 0 {
		return fmt.Errorf("write job summary: %s is already full", a.env.SummaryPath)
	}
	if len(md) > room {
		cut := strings.LastIndexByte(md[:room], '\n')
		if cut < 0 {
			cut = 0
		}
		md = md[:cut] + "\n\n*(job summary cut at the 1 MiB limit)*\n"
	}
	return appendFile(a.env.SummaryPath, md+"\n")
}

// Annotate writes file:line annotations, most severe first, as many per level as the runner shows in a
// step (AnnotationCap) less those already written and OwnAnnotations kept for schemagate's own messages
// that follow; it returns how many were left out. The list should come sorted from report.Annotations.
func (a *Actions) Annotate(as []report.Annotation) (dropped int) {
	for _, an := range as {
		level := an.Level
		if level != report.LevelError && level != report.LevelWarning {
			level = report.LevelNotice
		}
		if a.shown[level] >= AnnotationCap-OwnAnnotations {
			dropped++
			continue
		}
		a.shown[level]++
		// WithFieldsMap replaces the fields: file, line, col and title go together.
		fields := map[string]string{"title": clip(inert(an.Title), 200)}
		msg := inert(an.Message)
		switch {
		case an.File == "":
		case fileAsIs(an.File):
			// The file as it is, which the library escapes as the runner unescapes properties: GitHub
			// places the annotation by this path, so a tab or a line break in it must stay one.
			fields["file"] = an.File
			if an.Line > 0 {
				fields["line"] = strconv.Itoa(an.Line)
				if an.Col > 0 {
					fields["col"] = strconv.Itoa(an.Col)
				}
			}
		default:
			// A path the log may not carry raw and the runner would not read back escaped: the message
			// names it instead of a file the annotation would not land on.
			msg = position(inert(an.File), an.Line, an.Col) + ": " + msg
		}
		msg = clip(msg, 4000)
		act := a.gha.WithFieldsMap(fields)
		switch level {
		case report.LevelError:
			act.Errorf("%s", msg)
		case report.LevelWarning:
			act.Warningf("%s", msg)
		default:
			act.Noticef("%s", msg)
		}
	}
	return dropped
}

// inert escapes the control characters of untrusted text (as report.Clean does), keeping its line
// breaks, which the workflow command encodes: an escape sequence in a file name or a server message
// would otherwise colour or hide text in the log viewer, and a bidi control make it read otherwise.
func inert(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = report.Clean(l)
	}
	return strings.Join(lines, "\n")
}

// fileAsIs tells whether a file name can go into an annotation's file property as it is: it holds no
// control character but tabs and line breaks (which the property escapes or the log shows as they are),
// no invisible format character, no bidi control and no byte that is not UTF-8. Any other would reach
// the log raw, since the runner unescapes nothing else, and colour or hide text in the log viewer.
func fileAsIs(s string) bool {
	s = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(s)
	return report.Clean(s) == s
}

// position is file:line:col, as far as known.
func position(file string, line, col int) string {
	if line > 0 {
		file += ":" + strconv.Itoa(line)
		if col > 0 {
			file += ":" + strconv.Itoa(col)
		}
	}
	return file
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Notice writes a notice annotation without a file.
func (a *Actions) Notice(msg string) {
	a.shown[report.LevelNotice]++
	a.gha.Noticef("%s", inert(msg))
}

// Warning writes a warning annotation without a file.
func (a *Actions) Warning(msg string) {
	a.shown[report.LevelWarning]++
	a.gha.Warningf("%s", inert(msg))
}

// Error writes an error annotation without a file (the run page shows it as the step's cause).
func (a *Actions) Error(msg string) {
	a.shown[report.LevelError]++
	a.gha.Errorf("%s", inert(msg))
}

// Mask asks the runner to hide value in the log from now on (database passwords, tokens).
func (a *Actions) Mask(value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	for _, line := range strings.Split(value, "\n") {
		if line != "" {
			a.gha.AddMask(line)
		}
	}
}

// StopCommands stops the runner from executing workflow commands in the log until Resume is called with
// the returned token: what is logged in between (progress naming migrations, SQL errors) is untrusted.
func (a *Actions) StopCommands() (token string, err error) {
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("stop commands: %w", err)
	}
	token = hex.EncodeToString(buf)
	_, err = fmt.Fprintf(a.w, "::stop-commands::%s\n", token)
	return token, err
}

// Resume lets the runner execute workflow commands again.
func (a *Actions) Resume(token string) {
	fmt.Fprintf(a.w, "::%s::\n", token)
}
