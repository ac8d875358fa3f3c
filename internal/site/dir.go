package site

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// contains reports whether the file at name holds s, reading it in chunks.
func contains(name, s string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	needle, window := []byte(s), make([]byte, 0, 128<<10)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		window = append(window, buf[:n]...)
		if bytes.Contains(window, needle) {
			return true, nil
		}
		if keep := len(needle) - 1; len(window) > keep {
			window = append(window[:0], window[len(window)-keep:]...)
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// prepare checks that dir may receive the site and makes the hidden build directory in it.
func prepare(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	ours, foreign := false, ""
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == marker:
			ours = true
		case strings.HasPrefix(name, buildPrefix):
			// Left by a build that was killed; a build running now is younger.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				_ = os.RemoveAll(filepath.Join(dir, name))
			}
		case !strings.HasPrefix(name, ".") && foreign == "":
			foreign = name
		}
	}
	if foreign != "" && !ours {
		return "", fmt.Errorf("site: %s holds files (%s…) but no site written by registry site; "+
			"choose a new or empty directory", dir, foreign)
	}
	return os.MkdirTemp(dir, buildPrefix)
}

// swap replaces the site in dir by the one in build/site: the old files go to build/old
// (renames, so the site is incomplete only for the moment the renames take), then the new
// ones come in.
func swap(dir, build string) error {
	old := filepath.Join(build, "old")
	if err := os.Mkdir(old, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if name := e.Name(); name == marker || !strings.HasPrefix(name, ".") {
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(old, name)); err != nil {
				return err
			}
		}
	}
	fresh, err := os.ReadDir(filepath.Join(build, "site"))
	if err != nil {
		return err
	}
	for _, e := range fresh {
		if err := os.Rename(filepath.Join(build, "site", e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
