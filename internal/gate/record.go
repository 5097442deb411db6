package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/schemagate/schemagate/internal/forge"
)

// recordPrefix opens the hidden marker of an approval record. A record is trusted only when the
// comment starts with it and was written by the token's own user: anybody can paste the text.
const recordPrefix = "<!-- schemagate:approval "

// Record is the approval state the gate wrote on the change request, for the deploy job.
type Record struct {
	Version  int    `json:"v"`
	Repo     string `json:"repo"`
	Number   int    `json:"number"`
	Dir      string `json:"dir"`
	State    string `json:"state"`
	HeadSHA  string `json:"head_sha"`
	Checksum string `json:"checksum"`
	// ApprovedBy are the approvers that counted.
	ApprovedBy []string `json:"approved_by,omitempty"`
	// CommentID is the comment holding the record (not stored in it).
	CommentID int64 `json:"-"`
}

// Approves reports whether the record approves exactly the migrations whose Checksum is checksum.
func (r *Record) Approves(checksum string) bool {
	return r != nil && r.State == Approved && r.Checksum != "" && r.Checksum == checksum
}

// body renders the record's comment: the marker first (JSON with <, > and & escaped, so it can never
// close the HTML comment), then a line for people.
func (r *Record) body() (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(r); err != nil {
		return "", err
	}
	js := strings.TrimSpace(buf.String())
	js = strings.ReplaceAll(js, "--", `-\u002d`) // "--" is not allowed inside an HTML comment
	human := fmt.Sprintf("schemagate DBA approval record for %s: **%s**", text(r.Dir), r.State)
	if len(r.ApprovedBy) > 0 {
		human += " by " + codeList(r.ApprovedBy)
	}
	return recordPrefix + js + " -->\n" + human + "\n", nil
}

// parseRecord reads the record a comment body starts with.
func parseRecord(body string) (*Record, bool) {
	rest, ok := strings.CutPrefix(body, recordPrefix)
	if !ok {
		return nil, false
	}
	js, _, ok := strings.Cut(rest, " -->")
	if !ok {
		return nil, false
	}
	var r Record
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Version != 1 {
		return nil, false
	}
	return &r, true
}

// records lists the valid records the token's own user wrote on ref, oldest first.
func records(ctx context.Context, f forge.Forge, ref forge.Ref) ([]*Record, error) {
	me, err := f.Me(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := f.Comments(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, c := range cs {
		if c.System || !c.By(me) {
			continue
		}
		r, ok := parseRecord(c.Body)
		if !ok || r.Repo != ref.Repo || r.Number != ref.Number {
			continue
		}
		r.CommentID = c.ID
		out = append(out, r)
	}
	return out, nil
}

// Save records the decision for the migration folder dir on the change request: it updates the
// folder's record, or creates one when the decision is an approval (pending gates leave no comment).
// It returns the record written, or nil when nothing was written. A read-only token yields a wrapped
// forge.ErrReadOnly.
func Save(ctx context.Context, f forge.Forge, ref forge.Ref, dir string, d *Decision) (*Record, error) {
	if !d.Required {
		return nil, nil
	}
	rec := &Record{Version: 1, Repo: ref.Repo, Number: ref.Number, Dir: dir, State: d.State,
		HeadSHA: d.HeadSHA, Checksum: d.Checksum, ApprovedBy: d.ApprovedBy}
	body, err := rec.body()
	if err != nil {
		return nil, fmt.Errorf("save approval record: %w", err)
	}
	rs, err := records(ctx, f, ref)
	if err != nil {
		return nil, fmt.Errorf("save approval record: %w", err)
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Dir != dir {
			continue
		}
		rec.CommentID = rs[i].CommentID
		if err := f.UpdateComment(ctx, ref, rec.CommentID, body); err != nil {
			return nil, fmt.Errorf("save approval record: %w", err)
		}
		return rec, nil
	}
	if d.State != Approved {
		return nil, nil
	}
	if rec.CommentID, err = f.CreateComment(ctx, ref, body); err != nil {
		return nil, fmt.Errorf("save approval record: %w", err)
	}
	return rec, nil
}

// LatestApproval returns the newest approval record the token's own user wrote on the change request,
// whatever its folder; a wrapped forge.ErrNotFound when there is none. Callers check
// Record.Approves against the checksum of what they are about to deploy.
func LatestApproval(ctx context.Context, f forge.Forge, ref forge.Ref) (*Record, error) {
	return ApprovalFor(ctx, f, ref, "")
}

// Approvals returns the record of each migration folder the token's own user wrote on ref (each folder's
// newest), newest first.
func Approvals(ctx context.Context, f forge.Forge, ref forge.Ref) ([]*Record, error) {
	rs, err := records(ctx, f, ref)
	if err != nil {
		return nil, fmt.Errorf("read approval records: %w", err)
	}
	var out []*Record
	seen := map[string]bool{}
	for i := len(rs) - 1; i >= 0; i-- {
		if !seen[rs[i].Dir] {
			seen[rs[i].Dir] = true
			out = append(out, rs[i])
		}
	}
	return out, nil
}

// ApprovalFor is LatestApproval for one migration folder ("" means any).
func ApprovalFor(ctx context.Context, f forge.Forge, ref forge.Ref, dir string) (*Record, error) {
	rs, err := records(ctx, f, ref)
	if err != nil {
		return nil, fmt.Errorf("read approval record: %w", err)
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if dir == "" || rs[i].Dir == dir {
			return rs[i], nil
		}
	}
	return nil, fmt.Errorf("read approval record of %s#%d: %w", ref.Repo, ref.Number, forge.ErrNotFound)
}
