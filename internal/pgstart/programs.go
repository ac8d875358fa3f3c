package pgstart

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNotInstalled is returned (wrapped) by Start when initdb, pg_ctl or postgres cannot be
// found. It is a sentinel so that callers can tell "install PostgreSQL" apart from a server
// that failed to start; the wrapping error also lists the directories that were searched.
var ErrNotInstalled = errors.New("PostgreSQL 15 server programs not found; " + installHint)

const installHint = "install them with `apt-get install postgresql-15`, or set DATABASE_URL to use an existing server"

// notInstalledError names the directories searched, on one line, and unwraps to
// ErrNotInstalled.
type notInstalledError struct{ looked []string }

func (e *notInstalledError) Error() string {
	return "PostgreSQL 15 server programs not found (looked in " + strings.Join(e.looked, ", ") + "); " + installHint
}

func (e *notInstalledError) Unwrap() error { return ErrNotInstalled }

// serverPrograms are what Start runs; a directory counts only when it holds all of them.
var serverPrograms = []string{"initdb", "pg_ctl", "postgres"}

const defaultBinDir = "/usr/lib/postgresql/15/bin"

// findBinDir locates the server programs. PG_BINDIR, when set, is taken as the operator's
// explicit choice and is the only place looked at; otherwise the Debian/Ubuntu location of
// version 15 comes first, then whatever pg_config reports, then the newest other version.
func findBinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if hasServerPrograms(d) {
			return d, nil
		}
		return "", &notInstalledError{looked: []string{d + " (PG_BINDIR)"}}
	}
	looked := []string{defaultBinDir}
	if hasServerPrograms(defaultBinDir) {
		return defaultBinDir, nil
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		out, err := exec.Command(pgConfig, "--bindir").Output()
		if d := strings.TrimSpace(string(out)); err == nil && d != "" {
			looked = append(looked, d+" (pg_config --bindir)")
			if hasServerPrograms(d) {
				return d, nil
			}
		}
	}
	looked = append(looked, "/usr/lib/postgresql/*/bin")
	if d := newestDebianBinDir(); d != "" {
		return d, nil
	}
	return "", &notInstalledError{looked: looked}
}

func hasServerPrograms(dir string) bool {
	for _, p := range serverPrograms {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestDebianBinDir returns the bin directory of the highest-numbered version installed
// under /usr/lib/postgresql, or "" when there is none.
func newestDebianBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if hasServerPrograms(d) {
			return d
		}
	}
	return ""
}
