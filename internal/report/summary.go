package report

import (
	"fmt"
	"sort"

	"github.com/schemagate/schemagate/internal/lint"
)

// MaxSummaryBytes keeps the job summary under the runner's 1 MiB upload limit.
const MaxSummaryBytes = 1<<20 - 4096

// JobSummary renders the report for the CI job summary (GITHUB_STEP_SUMMARY): the comment's content
// without a marker and bounded by 1 MiB instead of 65,000 characters. (report.Summary is the lint
// one-liner in text.go.)
func JobSummary(r *Report, opts MarkdownOptions) string {
	opts.Marker = ""
	opts.MaxRunes = -1
	opts.MaxBytes = MaxSummaryBytes
	opts.SummaryURL = ""
	opts.to = toSummary
	return Markdown(r, opts)
}

// FileMarkdown renders the report for a Markdown file (check --report-md): the comment's content without
// a marker or links (a file knows no run) and without the comment's size limit, bounded by 1 MiB as the
// job summary is. A file is the long rendering where there is no job summary (GitLab keeps it among the
// job's artifacts).
func FileMarkdown(r *Report, opts MarkdownOptions) string {
	opts.Marker = ""
	opts.MaxRunes = -1
	opts.MaxBytes = MaxSummaryBytes
	opts.SummaryURL, opts.JobURL, opts.PipelineURL = "", "", ""
	opts.to = toFile
	return Markdown(r, opts)
}

// FileNote is the note a Markdown file (--report-md) gets when its rendering left out the parts named in
// dropped to stay within MaxSummaryBytes: it says so and names the JSON report, artifact ("" when none
// is written: --report-json), as the full one. "" when nothing was left out. Deploy's file rendering
// ends with it as check's does.
func FileNote(dropped []string, artifact string) string {
	return shortenedNote(dropped, MarkdownOptions{Artifact: artifact, to: toFile})
}

// CommentNote and SummaryNote are the notes a deploy's comment and job summary end with when their
// renderings left out the parts named in dropped to fit the forge's limit or the job summary's, as
// check's comment and job summary do; full says where the full report is, Markdown the caller escaped
// (Code, Link). "" when nothing was left out.
func CommentNote(dropped []string, full string) string { return note(toComment, dropped, full) }

// SummaryNote: see CommentNote.
func SummaryNote(dropped []string, full string) string { return note(toSummary, dropped, full) }

// Annotation levels, most severe first.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// Annotation is a file:line message for the CI's code view.
type Annotation struct {
	Level   string
	File    string
	Line    int
	Col     int
	Title   string
	Message string
}

var levelRank = map[string]int{LevelError: 0, LevelWarning: 1, LevelNotice: 2}

// Annotations lists a failure or finding per annotation, most severe first: failed migrations and
// round trips and dangerous findings are errors, caution findings warnings, safe ones notices. Ignored
// findings are left out.
func Annotations(r *Report) []Annotation {
	var out []Annotation
	sqlErr := func(title string, e *SQLError) {
		msg := e.Message
		if e.SQLState != "" {
			msg = fmt.Sprintf("%s (SQLSTATE %s)", msg, e.SQLState)
		}
		if e.Detail != "" {
			msg += "\nDetail: " + e.Detail
		}
		if e.Hint != "" {
			msg += "\nHint: " + e.Hint
		}
		out = append(out, Annotation{Level: LevelError, File: e.File, Line: e.Line, Col: e.Column, Title: title, Message: msg})
	}
	for _, m := range r.Migrations {
		if m.Status == StatusFailed && m.Error != nil {
			sqlErr("schemagate: migration "+m.Version+" failed", m.Error)
		}
		if rt := m.Roundtrip; rt != nil && rt.Status == RoundtripFailed {
			if rt.Error != nil {
				sqlErr("schemagate: round trip of "+m.Version+" failed", rt.Error)
			}
			for i, p := range rt.Problems {
				if rt.IsFailure(i) {
					continue // the failed statement, annotated above at its line with the error's detail
				}
				a := Annotation{Level: LevelError, File: firstNonEmpty(m.DownFile, m.File), Line: 1, Col: 1,
					Title: "schemagate: round trip of " + m.Version + " failed", Message: p}
				if at := rt.PlaceOf(i); at != nil {
					a.File, a.Line, a.Col = at.File, at.Line, at.Column
				}
				out = append(out, a)
			}
		}
	}
	for _, f := range r.Findings() {
		if f.Ignored {
			continue
		}
		lvl := LevelNotice
		switch f.Risk {
		case lint.Dangerous:
			lvl = LevelError
		case lint.Caution:
			lvl = LevelWarning
		}
		msg := f.Message + f.RepeatedNote()
		if f.Suggestion != "" {
			msg += "\nSafe alternative: " + f.Suggestion
		}
		if f.URL != "" {
			msg += "\n" + f.URL
		}
		out = append(out, Annotation{Level: lvl, File: f.File, Line: f.Line, Col: f.Column,
			Title: fmt.Sprintf("schemagate: %s (%s)", f.Rule, f.Risk), Message: msg})
	}
	sort.SliceStable(out, func(i, j int) bool { return levelRank[out[i].Level] < levelRank[out[j].Level] })
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
