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
// instead of ./sqitch.conf (App::Sqitch::Config local_file and dir_file). Config::GitLike load_dirs
// looks for that file from the folder sqitch runs in and, failing that, in the folders above it: a
// relative name is the migration folder's file when there is one, else the working directory's. A file
// that does not exist is no error (Config::GitLike loads only the files it finds; sqitch's own tests set
// SQITCH_CONFIG=nonexistent.conf to read none): sqitch then reads no project configuration, not the
// folder's sqitch.conf either, and a warning says so. A file of the working directory (or an absolute
// name) whose top_dir is the migration folder, with the folder's plan, is read as sqitchWorkingConf
// reads the working directory's sqitch.conf: top is then that top_dir, and "." otherwise (see
// sqitchLayoutOf). Problems in the file are reported at its name and line.
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
	b, err := repofs.ReadFile(name)
	missing := "does not exist"
	if info, serr := os.Stat(name); serr == nil && !info.Mode().IsRegular() {
		err, missing = fs.ErrNotExist, "is no file" // load_dirs takes only a plain file (-f)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg := "SQITCH_CONFIG names " + name + ", which " + missing + ": sqitch reads no project configuration then"
		if hasOwn {
			msg += ", not this folder's sqitch.conf either"
		}
		r.warnf(name, 0, "point SQITCH_CONFIG at the project's sqitch.conf, or unset it", "%s", msg)
		return nil, "."
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.errorf(name, 0, "fix the file, or point SQITCH_CONFIG elsewhere", "read sqitch configuration (SQITCH_CONFIG): %v", err)
		return nil, "."
	case !utf8.Valid(b):
		r.errorf(name, 0, "save the file as UTF-8", "sqitch configuration (SQITCH_CONFIG) is not valid UTF-8")
		return nil, "."
	}
	ignored(b)
	top = "."
	if t, ok := r.sqitchWorkingTop(string(b)); ok {
		top = t
	}
	return r.parseSqitchConf(name, string(b)), top
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
