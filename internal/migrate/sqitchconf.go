package migrate

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"unicode/utf8"

	"github.com/schemagate/schemagate/internal/repofs"
)

// This file holds the sqitch configuration files that the environment names or places: the project's
// ($SQITCH_CONFIG), the user's and the system's (App::Sqitch::Config, sqitch lib/App/Sqitch/Config.pm).

// sqitchConfigEnv is $SQITCH_CONFIG when sqitch heeds it: App::Sqitch::Config local_file returns it
// "if $ENV{SQITCH_CONFIG}", a Perl truth test that neither "" nor "0" passes.
func sqitchConfigEnv() (string, bool) {
	v := os.Getenv("SQITCH_CONFIG")
	return v, v != "" && v != "0"
}

// sqitchEnvConf reads the project configuration that $SQITCH_CONFIG names (name), which sqitch reads
// instead of ./sqitch.conf (App::Sqitch::Config local_file, which is Config::GitLike's dir_file).
// Config::GitLike load_dirs joins that name to the folder sqitch runs in and, when no plain file is
// there, to each folder above it up to the root, and loads the first it finds (File::Spec catpath
// joins an absolute name too: /ci/sqitch.conf is looked for as ./ci/sqitch.conf first, and found at the
// root last). schemagate takes the migration folder for where sqitch runs when it holds the name (a
// relative one), and the working directory otherwise: the name is looked for there and in the folders
// above it (sqitchEnvFile). Where none is found, sqitch reads no project configuration, not the
// folder's sqitch.conf either, and so deploys with other settings than the project's (or fails
// further on): that is an error, which says where the name was looked for. A file of the working
// directory (or above it) whose top_dir is the migration folder, with the folder's plan, is read as
// sqitchWorkingConf reads the working directory's sqitch.conf: top is then that top_dir, and "."
// otherwise (see sqitchLayoutOf). Problems in the file are reported at its name and line.
func (r *reader) sqitchEnvConf(name string) (conf *sqitchConfig, top string) {
	own, err := fs.ReadFile(r.fsys, sqitchConf)
	hasOwn := err == nil
	ignored := func(b []byte) {
		if hasOwn && !bytes.Equal(own, b) {
			r.warnf(sqitchConf, 0, "unset SQITCH_CONFIG to use this file, or delete it",
				"ignored: SQITCH_CONFIG names %s, which sqitch reads instead of ./sqitch.conf", name)
		}
	}
	if p := path.Clean(filepath.ToSlash(name)); !filepath.IsAbs(name) && fs.ValidPath(p) && r.exists(p) {
		src, ok := r.loadText(p)
		if !ok {
			return nil, "."
		}
		ignored([]byte(src))
		return r.parseSqitchConf(p, src), "."
	}
	file, looked := sqitchEnvFile(name)
	if file == "" {
		msg := "SQITCH_CONFIG names " + name + ", which is no file in the migration folder, nor in " + looked +
			" or a folder above it, where sqitch looks for it: sqitch would read no project configuration"
		if hasOwn {
			msg += ", not this folder's sqitch.conf either"
		}
		r.errorf(name, 0, "point SQITCH_CONFIG at the project's configuration file (relative to the folder sqitch runs in), or unset it to read sqitch.conf", "%s", msg)
		return nil, "."
	}
	b, err := repofs.ReadFile(file)
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.errorf(file, 0, "fix the file, or point SQITCH_CONFIG elsewhere", "read sqitch configuration (SQITCH_CONFIG): %v", err)
		return nil, "."
	case !utf8.Valid(b):
		r.errorf(file, 0, "save the file as UTF-8", "sqitch configuration (SQITCH_CONFIG) is not valid UTF-8")
		return nil, "."
	}
	ignored(b)
	top = "."
	if t, ok := r.sqitchWorkingTop(string(b)); ok {
		top = t
	}
	return r.parseSqitchConf(file, string(b)), top
}

// sqitchEnvFile is the file sqitch loads for $SQITCH_CONFIG (name) run in the working directory, as
// Config::GitLike load_dirs finds it: the name joined to the working directory, then to each folder
// above it, the first that is a plain file (-f: a link is followed). It is name itself when found in the
// working directory, the joined path otherwise; "" when there is none. looked is the working directory,
// to say where it was looked for.
func sqitchEnvFile(name string) (file, looked string) {
	wd, err := os.Getwd()
	if err != nil {
		if info, err := os.Stat(name); err == nil && info.Mode().IsRegular() {
			return name, "the working directory"
		}
		return "", "the working directory"
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, name)
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			if dir == wd && !filepath.IsAbs(name) {
				return name, wd
			}
			return p, wd
		}
		if dir == filepath.Dir(dir) {
			return "", wd
		}
	}
}

// sqitchOuterConf is what sqitch reads under the project's sqitch.conf (App::Sqitch::Config): the
// system's file, $SQITCH_SYSTEM_CONFIG, then the user's, $SQITCH_USER_CONFIG or else
// ~/.sqitch/sqitch.conf, the user's over the system's. Without $SQITCH_SYSTEM_CONFIG the system's is
// $Config{prefix}/etc/sqitch/sqitch.conf, under the prefix of the Perl that runs sqitch, which schemagate
// cannot know: it is not read. A file that does not exist is no problem, as in sqitch (Config::GitLike
// loads the files that exist). nil when there is none.
func (r *reader) sqitchOuterConf() *sqitchConfig {
	var files []string
	if f := os.Getenv("SQITCH_SYSTEM_CONFIG"); f != "" {
		files = append(files, f)
	}
	if f := os.Getenv("SQITCH_USER_CONFIG"); f != "" {
		files = append(files, f)
	} else if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".sqitch", sqitchConf))
	}
	var conf *sqitchConfig
	for _, f := range files {
		b, err := repofs.ReadFile(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			r.errorf(f, 0, "fix the file, or point SQITCH_USER_CONFIG or SQITCH_SYSTEM_CONFIG elsewhere", "read sqitch configuration: %v", err)
			continue
		case !utf8.Valid(b):
			r.errorf(f, 0, "save the file as UTF-8", "sqitch configuration is not valid UTF-8")
			continue
		}
		conf = r.parseSqitchConf(f, string(b)).over(conf)
	}
	return conf
}
