package migrate

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Detect names the format of the migration folder fsys from its file names and control comments. It
// fails when nothing looks like a migration, and when the folder holds evidence for two formats (the
// error says which files point to which).
func Detect(fsys fs.FS) (Format, error) {
	evidence := map[Format][]string{}
	add := func(f Format, file string) { evidence[f] = append(evidence[f], file) }
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", &Error{Msg: fmt.Sprintf("read migration folder: %v", err)}
	}
	// Flyway's naming settings and locations, from its configuration as Read takes it (problems are
	// Read's to report): a script outside the locations is none of Flyway's.
	scratch := &reader{fsys: fsys}
	settings := scratch.loadFlywaySettings()
	naming, locs := settings.naming, scratch.flywayLocations(&settings)
	sqlFiles := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			if !strings.HasPrefix(name, ".") {
				flywayEvidence(fsys, name, naming, locs, add)
			}
			continue
		}
		if !maybeFile(e) {
			continue
		}
		if name == sqitchPlan {
			add(FormatSqitch, name)
			continue
		}
		if name == sqitchConf {
			// sqitch.conf may keep the plan elsewhere (top_dir, plan_file).
			if lay := folderSqitchLayout(fsys); lay != nil && lay.plan != sqitchPlan {
				if info, err := fs.Stat(fsys, lay.plan); err == nil && info.Mode().IsRegular() {
					add(FormatSqitch, lay.plan)
				}
			}
			continue
		}
		if name == "flyway.conf" || name == "flyway.toml" {
			add(FormatFlyway, name) // Flyway's configuration: the folder is a Flyway project
			continue
		}
		if name == atlasSum {
			add(FormatAtlas, name)
			continue
		}
		if strings.HasSuffix(name, ".go") && leadingDigits(name) != "" {
			if b, err := fs.ReadFile(fsys, name); err == nil && bytes.Contains(b, []byte("goose")) {
				add(FormatGoose, name)
			}
			continue
		}
		if kind, _, _, _ := naming.parse(name); kind != 0 && locs.holds(name) {
			add(FormatFlyway, name)
		}
		if !isSQL(name) {
			continue
		}
		sqlFiles++
		if golangMigrateName.MatchString(name) {
			add(FormatGolangMigrate, name)
		}
		if b, err := fs.ReadFile(fsys, name); err == nil {
			if f := directiveFormat(b); f != "" {
				add(f, name)
			}
		}
	}
	if len(evidence[FormatSqitch]) == 0 {
		// Without a sqitch.conf of its own, the folder may be the top_dir of the working directory's
		// sqitch.conf (check --dir db, run where sqitch runs), which Read reads too (sqitchLayout): its
		// plan_file may name the plan otherwise than sqitch.plan. So may the file $SQITCH_CONFIG names,
		// which sqitch reads instead of either (sqitchEnvConf).
		scratch := &reader{fsys: fsys}
		var conf *sqitchConfig
		top := "."
		if name, ok := sqitchConfigEnv(); ok {
			conf, top = scratch.sqitchEnvConf(name)
		} else if _, err := fs.Stat(fsys, sqitchConf); err != nil {
			conf, top = scratch.sqitchWorkingConf()
		}
		if conf != nil {
			if lay := scratch.sqitchLayoutOf(conf, top); lay != nil {
				if info, err := fs.Stat(fsys, lay.plan); err == nil && info.Mode().IsRegular() {
					add(FormatSqitch, lay.plan)
				}
			}
		}
	}
	var found []Format
	for _, f := range Formats {
		if len(evidence[f]) > 0 {
			found = append(found, f)
		}
	}
	if len(found) > 1 && len(evidence[FormatAtlas]) > 0 {
		// Atlas also keeps an atlas.sum for folders in another tool's format (--dir-format).
		found = slices.DeleteFunc(found, func(f Format) bool { return f == FormatAtlas })
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		var parts, flags []string
		for _, f := range found {
			files := evidence[f]
			more := ""
			if len(files) > 3 {
				files, more = files[:3], fmt.Sprintf(" and %d more", len(files)-3)
			}
			parts = append(parts, fmt.Sprintf("%s (%s%s)", f, strings.Join(files, ", "), more))
			flags = append(flags, "--format "+string(f))
		}
		return "", &Error{
			Msg:  "ambiguous migration folder: files look like " + strings.Join(parts, " and like "),
			Hint: "pass " + strings.Join(flags, " or "),
		}
	case sqlFiles > 0:
		return FormatPlain, nil
	}
	if lay := folderSqitchLayout(fsys); lay != nil && lay.plan != sqitchPlan {
		key, v := lay.conf.fetch("plan_file")
		if v.value == "" {
			key, v = lay.conf.fetch("top_dir")
		}
		return "", &Error{File: sqitchConf, Line: v.line,
			Msg:  fmt.Sprintf("no migrations found here: sqitch.conf sets %s = %s, but there is no %s", key, v.value, lay.plan),
			Hint: "create the plan with sqitch init, or fix sqitch.conf: schemagate reads sqitch.conf in the migration folder, as sqitch reads it where it runs, and the plan and scripts where it says",
		}
	}
	if info, err := fs.Stat(fsys, "db/migrations"); err == nil && info.IsDir() {
		return "", &Error{
			Msg:  "no migrations found here, but there is a db/migrations folder (dbmate's default)",
			Hint: "point the migration folder at db/migrations",
		}
	}
	return "", &Error{
		Msg:  "no migrations found",
		Hint: "looked for sqitch.plan, atlas.sum, {version}_{title}.up.sql, V{version}__{description}.sql, goose, dbmate and sql-migrate annotations, and any .sql file; point the migration folder at the right directory",
	}
}

// sqitchTopDir is the top_dir that a sqitch.conf in the folder sets, if any: sqitch then reads its plan
// and scripts from there.
func sqitchTopDir(fsys fs.FS) string {
	b, err := fs.ReadFile(fsys, sqitchConf)
	if err != nil {
		return ""
	}
	_, v := (&reader{fsys: fsys}).parseSqitchConf(sqitchConf, string(b)).fetch("top_dir")
	if path.Clean(v.value) == "." {
		return ""
	}
	return v.value
}

// flywayEvidence adds Flyway-named scripts below dir (Flyway reads subfolders; the other formats do not)
// that are in Flyway's locations, and conf/flyway.conf, where the Flyway CLI also reads its configuration.
func flywayEvidence(fsys fs.FS, dir string, naming flywayNaming, locs flywayLocations, add func(Format, string)) {
	_ = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if kind, _, _, _ := naming.parse(path.Base(p)); (kind != 0 && locs.holds(p) || p == "conf/flyway.conf") && maybeFile(d) {
			add(FormatFlyway, p)
		}
		return nil
	})
}

// directiveFormat returns the single-file format whose control comment the text holds first, or "".
func directiveFormat(b []byte) Format {
	for line := range strings.Lines(string(b)) {
		body, ok, _ := commentBody(strings.TrimPrefix(line, "\uFEFF"))
		switch {
		case !ok:
		case hasPrefixFold(body, "+goose"):
			return FormatGoose
		case hasPrefixFold(body, "+migrate"):
			return FormatSQLMigrate
		case hasPrefixFold(body, "migrate:up") || hasPrefixFold(body, "migrate:down"):
			return FormatDbmate
		}
	}
	return ""
}
