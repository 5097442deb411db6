package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/schemagate/schemagate/internal/config"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/lint"
)

// The pull request chooses its working tree, schemagate.yml included: if the policy came from there, a
// change could switch off the approval it needs (approval.require: never) along with its dangerous
// migration. When the base is known, the policy settings come from schemagate.yml as the base has it;
// the change may tighten them, and what it loosens is ignored with a note until it is merged.

// baseFileReader returns a file of the repository (path relative to its top, slash-separated) as it is
// at the base; nil without error when the base has no such file.
type baseFileReader func(ctx context.Context, path string) ([]byte, error)

// forgeFiles reads the base's files from the forge, at commit base of repo, when the checkout lacks
// them (basePolicyFor's fallback); a file the base does not have reads as none.
func forgeFiles(f forge.Forge, repo, base string) func(rel string) baseFileReader {
	return func(string) baseFileReader {
		return func(ctx context.Context, path string) ([]byte, error) {
			data, err := f.FileAt(ctx, repo, path, base)
			if errors.Is(err, forge.ErrNotFound) {
				return nil, nil
			}
			return data, err
		}
	}
}

// configInRepo returns the top of the git work tree holding the configuration file and the file's path
// relative to it. ok is false for a file outside any work tree: the CI job's own file, not the change's.
func configInRepo(ctx context.Context, file string) (top, rel string, ok bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", "", false
	}
	dir := filepath.Dir(abs)
	if phys, err := filepath.EvalSymlinks(dir); err == nil {
		dir = phys
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", "", false
	}
	top = strings.TrimSpace(string(out))
	if phys, err := filepath.EvalSymlinks(top); err == nil {
		top = phys
	}
	r, err := filepath.Rel(top, filepath.Join(dir, filepath.Base(abs)))
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", "", false
	}
	return top, filepath.ToSlash(r), true
}

// gitCommitExists tells whether ref names a commit of the repository at top.
func gitCommitExists(ctx context.Context, top, ref string) bool {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return false
	}
	return exec.CommandContext(ctx, "git", "-C", top, "rev-parse", "--verify", "--quiet", ref+"^{commit}").Run() == nil
}

// gitFileReader reads files at commit ref of the repository at top with git, following symbolic links
// inside the commit's tree (a link out of it reads as no file).
func gitFileReader(top, ref string) baseFileReader {
	return func(ctx context.Context, path string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", "-C", top, "cat-file", "--batch", "--follow-symlinks")
		cmd.Stdin = strings.NewReader(ref + ":" + path + "\n")
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
		}
		br := bufio.NewReader(bytes.NewReader(out))
		header, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
		}
		fields := strings.Fields(header)
		if len(fields) != 3 || fields[1] != "blob" {
			return nil, nil // missing, or a link that leads nowhere in the commit
		}
		size, err := strconv.Atoi(fields[2])
		if err != nil || size < 0 {
			return nil, fmt.Errorf("read %s at %s: bad git cat-file header %q", path, ref, strings.TrimSpace(header))
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
		}
		return data, nil
	}
}

// applyBasePolicy reads the configuration file rel as it is at the base (through read) and makes its
// policy settings hold over cfg, the change's own configuration: see enforceBasePolicy (flags: what the
// command line decides). It returns what it did, with the notes saying what of the change's was ignored.
func (a *App) applyBasePolicy(ctx context.Context, cfg *config.Config, rel, ref string, read baseFileReader, flags policyFlags, enforce enforcer) (basePolicy, error) {
	data, err := read(ctx, rel)
	if err != nil {
		return basePolicy{}, err
	}
	base := config.Default()
	where := fmt.Sprintf("%s at %.12s", rel, ref)
	var notes []string
	if data != nil {
		if notes, err = readBasePolicy(rel, where, ref, data, base); err != nil {
			return basePolicy{}, err
		}
	} else {
		where = fmt.Sprintf("the base %.12s (no %s there)", ref, rel)
	}
	if err := base.ApplyEnv(a.Getenv); err != nil {
		return basePolicy{}, usageErr(err)
	}
	if enforce == nil {
		enforce = enforceBasePolicy
	}
	p := enforce(cfg, base, rel, where, flags)
	p.notes = append(notes, p.notes...)
	p.held = true
	return p, nil
}

// readBasePolicy parses the base's configuration file data (rel at ref, named where) into base. A file that reads
// only in part does not give way to the defaults, which may be looser than it (lint.fail_on: never
// where it says dangerous): every setting that reads holds, and a policy setting that does not read
// counts as its strictest value where it has one (lint.fail_on safe, approval.require always, a rule's
// class dangerous, no deploy timeouts); an entry for a rule this schemagate does not have (renamed in an
// upgrade) is dropped when it turns the rule off, as dropping it cannot loosen anything. A problem in a
// setting the policy does not use (database.provider) is noted. Any other problem of a policy setting
// (dir, approval.approvals, dba_users, database.pg_version, an unknown key that may be one of them, a
// YAML syntax error) leaves the base's policy unknown: a usage error names it, at its line. The notes
// say what was made of what did not read.
func readBasePolicy(rel, where, ref string, data []byte, base *config.Config) ([]string, error) {
	err := config.Parse(where, data, base)
	if err == nil {
		return nil, nil
	}
	var probs config.Problems
	if !errors.As(err, &probs) {
		return nil, usageErr(err)
	}
	var notes []string
	var refused config.Problems
	note := func(p config.Problem, what string) {
		at := where
		if p.Line > 0 {
			at = fmt.Sprintf("%s:%d", where, p.Line)
			if p.Column > 0 {
				at += fmt.Sprintf(":%d", p.Column)
			}
		}
		p.File, p.Line, p.Column = "", 0, 0
		notes = append(notes, fmt.Sprintf("%s does not read (%s): %s", at, p.Error(), what))
	}
	for _, p := range probs {
		path := strings.NewReplacer("[", ".", "]", "").Replace(p.Path)
		if path == "" && p.Line > 0 {
			path = base.PathAt(p.Line)
		}
		switch rest, isRule := strings.CutPrefix(path, "lint.rules."); {
		case isRule && !strings.Contains(rest, "."):
			rest = strings.ToLower(rest) // Parse keys the rules by the lower-case id
			class, set := base.Lint.Rules[rest]
			if _, known := lint.Lookup(rest); known {
				if base.Lint.Rules == nil {
					base.Lint.Rules = map[string]string{}
				}
				base.Lint.Rules[rest] = "dangerous"
				note(p, "the rule counts as dangerous, the strictest class, until the file is fixed")
			} else if set && class == "off" {
				delete(base.Lint.Rules, rest)
				note(p, "the entry, which turns off a rule this schemagate does not have, is ignored")
			} else {
				refused = append(refused, p)
			}
		case path == "lint.fail_on":
			base.Lint.FailOn = "safe"
			note(p, "lint.fail_on counts as safe, the strictest value, until the file is fixed")
		case path == "lint.deploy_timeouts":
			off := false
			base.Lint.DeployTimeouts = &off
			note(p, "the deploy's timeouts do not count, the strictest choice, until the file is fixed")
		case path == "approval.require":
			base.Approval.Require = config.RequireAlways
			note(p, "approval.require counts as always, the strictest value, until the file is fixed")
		case path == "approval.stale_on_push":
			base.Approval.StaleOnPush = nil // true
			note(p, "approval.stale_on_push counts as true, the strictest value, until the file is fixed")
		case path == "rehearsal" || strings.HasPrefix(path, "rehearsal."):
			base.Rehearsal.AllowServerAccess = false
			note(p, "rehearsal.allow_server_access counts as false, the strictest value, until the file is fixed")
		case path == "environments" || strings.HasPrefix(path, "environments."):
			off := false
			base.Lint.DeployTimeouts = &off
			note(p, "the deploy's timeouts do not count, the strictest choice, until the file is fixed")
		case path == "database.image":
			note(p, "where the base's pg_version holds over the change's, its server is the default image (postgres:<pg_version>) until the file is fixed")
		case path == "format" || path == "golang_migrate" || strings.HasPrefix(path, "golang_migrate.") || path == "database.provider" || path == "database.url" ||
			path == "database.statement_timeout" || path == "database.setup" || strings.HasPrefix(path, "database.setup."):
			note(p, "the setting is no part of the policy a change is held to")
		default:
			refused = append(refused, p)
		}
	}
	if len(refused) > 0 {
		msgs := make([]string, len(refused))
		for i, p := range refused {
			msgs[i] = p.Error()
		}
		return nil, usageErr(fmt.Errorf("the policy in %s does not read:\n  %s\nhint: a change is held to the policy of its base "+
			"(approval, lint.fail_on, lint.rules, dir, database.pg_version, the deploy timeouts, rehearsal.allow_server_access), and what the base's file says there "+
			"cannot be told: fix %s on %s first",
			where, strings.Join(msgs, "\n  "), rel, ref))
	}
	return notes, nil
}

// enforcer holds cfg to the policy settings of base (enforceBasePolicy, enforceTargetPolicy).
type enforcer func(cfg, base *config.Config, file, where string, flags policyFlags) basePolicy

// policyFlags are the policy settings the command line gives: the workflow's choice, not the change's,
// they decide over both files, and neither the change's setting nor the base's is held or noted.
type policyFlags struct {
	// dir is set when --dir names the folder.
	dir bool
	// pgVersion is set when --pg-version names the server's version.
	pgVersion bool
	// image is set when --image names the docker provider's image.
	image bool
}

// requireRank orders approval.require from the loosest to the strictest.
var requireRank = map[string]int{config.RequireNever: 0, config.RequireDangerous: 1, config.RequireRisky: 2, config.RequireAlways: 3}

// failOnRank orders lint.fail_on from the loosest to the strictest.
var failOnRank = map[string]int{"": 0, "never": 0, "dangerous": 1, "caution": 2, "safe": 3}

// classRank orders a rule's class from the loosest to the strictest.
var classRank = map[string]int{"off": 0, "safe": 1, "caution": 2, "dangerous": 3}

// ruleRank is the strictness of rule id under rules: its configured class, else its default class.
func ruleRank(id string, rules map[string]string) int {
	if c, ok := rules[id]; ok {
		return classRank[c]
	}
	r, ok := lint.Lookup(id)
	switch {
	case !ok || r.Off:
		return classRank["off"]
	case r.Risk >= lint.Dangerous:
		return classRank["dangerous"]
	case r.Risk >= lint.Caution:
		return classRank["caution"]
	}
	return classRank["safe"]
}

// basePolicy is what the base's policy did to the change's configuration.
type basePolicy struct {
	// notes say what of the change's was ignored.
	notes []string
	// dirFlag is set when --dir names the folder: the change's dir is not held to the base's then.
	dirFlag bool
	// failOnFromBase is set when lint.fail_on is the base's, the change's lower one ignored.
	failOnFromBase bool
	// classesFromBase is set when a setting that classifies statements (lint.rules, the deploy
	// timeouts, database.pg_version) is the base's, the change's looser one ignored: a report made under
	// the change's settings may then understate the risk.
	classesFromBase bool
	// dirIgnored is the change's dir setting that the base's (baseDir, read at where) replaced; empty
	// when the base's folder is the change's own.
	dirIgnored, baseDir, where string
	// dirFrom says where baseDir comes from: "from <where>", or the default's words.
	dirFrom string
	// held is set when the base's file (or its absence) was read and its policy holds over the change's.
	held bool
	// versionFrom, when the base's database.pg_version holds over the change's, says so for the error
	// of a server of another version; imageHeld is set when the base's image holds with it, imageFrom
	// saying where that image comes from ("" for the default of the version).
	versionFrom, imageFrom string
	imageHeld              bool
}

// folderHint says, for an error about the migration folder, that the base's dir applies and the
// change's is ignored; "" when the change's applies.
func (p basePolicy) folderHint() string {
	if p.baseDir == "" {
		return ""
	}
	head := p.dirIgnored
	if head == "" {
		head = "its default (" + defaultDir + ")"
	}
	return fmt.Sprintf("the base's dir %s (%s) applies: this change's dir, %s, is ignored until the change is merged", p.baseDir, p.dirFrom, head)
}

// enforceBasePolicy makes the policy settings of base (the configuration at the base ref) hold over cfg
// (the change's): approval.*, rehearsal.allow_server_access, lint.fail_on, lint.rules, the deploy timeouts the rules count
// (environments, lint.deploy_timeouts), database.pg_version (a newer server relaxes some rules) unless
// flags.pgVersion (--pg-version decides), with database.image unless flags.image, and dir (an empty folder has no risky migration) unless
// flags.dir (--dir decides). Where cfg is stricter it stays; where it is looser, base's setting
// replaces it and a note says so. file names the configuration file, where the base's.
func enforceBasePolicy(cfg, base *config.Config, file, where string, flags policyFlags) basePolicy {
	return enforcePolicy(cfg, base, where, flags, func(key, head, kept, from string) string {
		return fmt.Sprintf("%s in this change sets %s to %s: ignored, %s (%s) applies until the change is merged, as a pull request cannot loosen its own policy", file, key, head, kept, from)
	})
}

// enforceTargetPolicy is enforceBasePolicy for the target branch's head (see gatePolicy): cfg is
// already the change's policy held to its merge base's, and a setting looser than the target head's is
// one the change took from the older commit it branched off.
func enforceTargetPolicy(cfg, target *config.Config, file, where string, flags policyFlags) basePolicy {
	return enforcePolicy(cfg, target, where, flags, func(key, head, kept, from string) string {
		return fmt.Sprintf("%s at the merge base of this change sets %s to %s: ignored, %s (%s, the head of the target branch) applies, as a change cannot keep a policy the target branch has since tightened by branching off an older commit", file, key, head, kept, from)
	})
}

// enforcePolicy holds cfg to base's policy settings (see enforceBasePolicy); note words what was ignored.
func enforcePolicy(cfg, base *config.Config, where string, flags policyFlags, note func(key, head, kept, from string) string) basePolicy {
	p := basePolicy{dirFlag: flags.dir}
	var notes []string
	ignored := func(key, head, kept string) {
		notes = append(notes, note(key, head, kept, "from "+where))
	}
	show := func(v any) string {
		switch v := v.(type) {
		case string:
			if v == "" {
				return "its default"
			}
			return v
		case []string:
			if len(v) == 0 {
				return "none"
			}
			return "[" + strings.Join(v, ", ") + "]"
		}
		return fmt.Sprint(v)
	}

	// Approval.
	ap, bp := &cfg.Approval, base.Approval
	if requireRank[ap.RequireLevel()] < requireRank[bp.RequireLevel()] {
		ignored("approval.require", ap.RequireLevel(), bp.RequireLevel())
		ap.Require = bp.Require
	}
	if ap.Needed() < bp.Needed() {
		ignored("approval.approvals", strconv.Itoa(ap.Needed()), strconv.Itoa(bp.Needed()))
		ap.Approvals = bp.Approvals
	}
	if !ap.Stale() && bp.Stale() {
		ignored("approval.stale_on_push", "false", "true")
		ap.StaleOnPush = bp.StaleOnPush
	}
	// Who may approve is the base's to say: the change could add its author's friends.
	if !slices.Equal(ap.DBAUsers, bp.DBAUsers) {
		ignored("approval.dba_users", show(ap.DBAUsers), show(bp.DBAUsers))
		ap.DBAUsers = slices.Clone(bp.DBAUsers)
	}
	if !slices.Equal(ap.DBATeams, bp.DBATeams) {
		ignored("approval.dba_teams", show(ap.DBATeams), show(bp.DBATeams))
		ap.DBATeams = slices.Clone(bp.DBATeams)
	}
	if ap.CodeownersPath != bp.CodeownersPath {
		ignored("approval.codeowners_path", show(ap.CodeownersPath), show(bp.CodeownersPath))
		ap.CodeownersPath = bp.CodeownersPath
	}

	// What a CI job's rehearsal lets the migrations reach: the change's SQL must not open it for itself.
	if cfg.Rehearsal.AllowServerAccess && !base.Rehearsal.AllowServerAccess {
		ignored("rehearsal.allow_server_access", "true", "false")
		cfg.Rehearsal.AllowServerAccess = false
	}

	// Rules.
	if failOnRank[cfg.Lint.FailOn] < failOnRank[base.Lint.FailOn] {
		ignored("lint.fail_on", show(cfg.Lint.FailOn), base.Lint.FailOn)
		cfg.Lint.FailOn = base.Lint.FailOn
		p.failOnFromBase, p.where = true, where
	}
	ids := slices.Sorted(maps.Keys(cfg.Lint.Rules))
	for id := range base.Lint.Rules {
		if _, ok := cfg.Lint.Rules[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if ruleRank(id, cfg.Lint.Rules) >= ruleRank(id, base.Lint.Rules) {
			continue
		}
		class, ok := base.Lint.Rules[id]
		kept := class
		if !ok {
			kept = "its default class"
		}
		head, set := cfg.Lint.Rules[id]
		if !set {
			head = "its default class"
		}
		ignored("lint.rules."+id, head, kept)
		p.classesFromBase = true
		if ok {
			if cfg.Lint.Rules == nil {
				cfg.Lint.Rules = map[string]string{}
			}
			cfg.Lint.Rules[id] = class
		} else {
			delete(cfg.Lint.Rules, id)
		}
	}
	// The deploy's timeouts make the missing-timeout rules safe: the base's environments say which.
	if ht := deployTimeouts(cfg); ht != nil && !reflect.DeepEqual(ht, deployTimeouts(base)) {
		ignored("the deploy timeouts (environments, lint.deploy_timeouts)", "other values", "the base's")
		cfg.Environments, cfg.Lint.DeployTimeouts = base.Environments, base.Lint.DeployTimeouts
		p.classesFromBase = true
	}
	// A newer server makes some statements safe that an older one locks or rewrites for. --pg-version
	// names the server the run starts and the rules assume, whatever either file says: holding the base's
	// here would only write a note that the flag then contradicts.
	eff := func(v int) int {
		if v == 0 {
			return lint.DefaultPGVersion
		}
		return v
	}
	if hv, bv := cfg.Database.PGVersion, base.Database.PGVersion; !flags.pgVersion && eff(hv) > eff(bv) {
		ignored("database.pg_version", show(strconv.Itoa(hv)), show(strconv.Itoa(bv)))
		cfg.Database.PGVersion = bv
		p.classesFromBase = true
		change := "this change names none"
		if hv != 0 {
			change = fmt.Sprintf("this change's %d applies once it is merged", hv)
		}
		p.versionFrom = fmt.Sprintf("database.pg_version of the base, from %s: %s", where, change)
		// The image goes with the version: the change's is the server it upgrades to, and started for
		// the base's version it is a server of another version, which no run can use. Both are the base's
		// until the merge; taking both from the change instead would let it name the newer server (and
		// its looser rules) before production runs it. --image decides over both files, as --pg-version.
		if hi, bi := cfg.Database.Image, base.Database.Image; !flags.image && hi != bi {
			kept := bi
			if kept == "" {
				kept = fmt.Sprintf("its default (postgres:%d)", eff(bv))
			}
			notes = append(notes, note("database.image", show(hi), kept, "from "+where+", with its pg_version"))
			cfg.Database.Image = bi
			p.imageHeld = true
			if bi != "" {
				p.imageFrom = "from database.image of the base, in " + where
			}
		}
	}
	// The folder too, the default included: the change's dir could name a harmless folder and leave its
	// DROP TABLE in the one the base checks. A folder given on the command line (--dir) is the workflow's
	// choice, not the change's, and decides without a note.
	if !p.dirFlag && cleanDir(effectiveDir(cfg.Dir)) != cleanDir(effectiveDir(base.Dir)) {
		// The base's folder is its default when its file names none: not a setting "from" that file.
		from := "from " + where
		if base.Dir == "" {
			from = "the default: no dir in " + where
		}
		notes = append(notes, note("dir", show(cfg.Dir), effectiveDir(base.Dir), from))
		p.dirIgnored, p.baseDir, p.where, p.dirFrom = cfg.Dir, effectiveDir(base.Dir), where, from
		cfg.Dir = base.Dir
	}
	p.notes = notes
	return p
}

// effectiveDir is the migration folder a dir setting names: itself, else the default (see folderFlags).
func effectiveDir(d string) string {
	if d == "" {
		return defaultDir
	}
	return d
}

func cleanDir(d string) string {
	if d == "" {
		return ""
	}
	return filepath.ToSlash(filepath.Clean(d))
}

// basePolicyFor applies the base's policy to cfg when the configuration file is the change's (inside a
// git work tree) and ref names a commit there; fallback, when not nil, reads the file when the commit
// is not in the clone (the gate reads it through the forge, as it reads CODEOWNERS).
func (a *App) basePolicyFor(ctx context.Context, cfg *config.Config, file, ref string, fallback func(rel string) baseFileReader, flags policyFlags, enforce enforcer) (basePolicy, error) {
	if ref == "" {
		return basePolicy{}, nil
	}
	top, rel, ok := configInRepo(ctx, file)
	if !ok {
		return basePolicy{}, nil
	}
	var read baseFileReader
	switch {
	case gitCommitExists(ctx, top, ref):
		read = gitFileReader(top, ref)
	case fallback != nil:
		read = fallback(rel)
	default:
		// An unknown base fails where the history is read (check), with its hint.
		return basePolicy{}, nil
	}
	p, err := a.applyBasePolicy(ctx, cfg, rel, ref, read, flags, enforce)
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return basePolicy{}, err
		}
		return basePolicy{}, fmt.Errorf("read the policy of the base %s: %w", ref, err)
	}
	return p, nil
}
