package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schemagate/schemagate/internal/lint"
)

// SARIF 2.1.0, the subset code-scanning services read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// ColumnKind says how startColumn counts: in characters (code points), as the parser's positions
	// do; SARIF's default would be UTF-16 code units.
	ColumnKind string `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string      `json:"id"`
	ShortDescription     sarifText   `json:"shortDescription"`
	HelpURI              string      `json:"helpUri"`
	Help                 *sarifText  `json:"help,omitempty"`
	DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// Level maps a risk to a SARIF level: dangerous is an error, caution a warning, safe a note.
func Level(r lint.Risk) string {
	switch r {
	case lint.Dangerous:
		return "error"
	case lint.Caution:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes findings as a SARIF 2.1.0 log. Every rule that has a finding is described in
// tool.driver.rules (id, help URI, description, default level); findings suppressed by an ignore
// comment carry an "inSource" suppression with the reason. File paths should be relative to the
// repository root (code scanning resolves them there); they are written as URI references, percent-
// encoded, and an absolute path as a file: URI.
func WriteSARIF(w io.Writer, findings []lint.Finding, version string) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "schemagate", Version: version,
			InformationURI: "https://github.com/schemagate/schemagate"}},
		Results:    []sarifResult{},
		ColumnKind: "unicodeCodePoints",
	}
	index := map[string]int{}
	var ids []string
	for _, f := range findings {
		if _, ok := index[f.Rule]; !ok {
			index[f.Rule] = -1
			ids = append(ids, f.Rule)
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		index[id] = i
		r, ok := lint.Lookup(id)
		if !ok {
			r = lint.Rule{ID: id, Summary: id, Risk: lint.Dangerous}
		}
		sr := sarifRule{ID: id, ShortDescription: sarifText{r.Summary}, HelpURI: r.URL(),
			DefaultConfiguration: sarifConfig{Level(r.Risk)}}
		if r.Suggestion != "" {
			sr.Help = &sarifText{"Safe alternative: " + r.Suggestion}
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sr)
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	for _, f := range findings {
		msg := f.Message + f.RepeatedNote()
		if f.Suggestion != "" {
			msg += " Suggestion: " + f.Suggestion
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: Level(f.Risk), Message: sarifText{msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: fileURI(f.File)},
				Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1)},
			}}}}
		if f.Ignored {
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Reason}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// fileURI writes a path as a URI reference: each segment percent-encoded (a space, '#' or '%' in a file
// name would otherwise break it), an absolute path as a file: URI.
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	out := strings.Join(segs, "/")
	if strings.HasPrefix(p, "/") {
		return "file://" + out
	}
	return out
}
