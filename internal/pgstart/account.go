package pgstart

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// serverUserName is the system account the server runs as when this process is root:
// PostgreSQL refuses to run as root, and Debian's postgresql packages create this account.
const serverUserName = "postgres"

// account is who runs initdb, pg_ctl and hence the server. cred is nil when that is simply
// the current user, in which case no ownership changes are needed.
type account struct {
	name   string
	uid    int
	gid    int
	groups []int
	home   string
	cred   *syscall.Credential
}

// serverAccount picks the account: the current user, or the postgres user when root.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		groups, _ := os.Getgroups()
		name := "uid " + strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return &account{name: name, uid: os.Geteuid(), gid: os.Getegid(), groups: groups}, nil
	}
	u, err := user.Lookup(serverUserName)
	if err != nil {
		return nil, fmt.Errorf("pgstart: running as root, so the server must run as the %q system user, but: %w", serverUserName, err)
	}
	a := &account{name: serverUserName, home: u.HomeDir}
	if a.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("pgstart: uid of %s: %w", serverUserName, err)
	}
	if a.gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("pgstart: gid of %s: %w", serverUserName, err)
	}
	a.groups = []int{a.gid}
	gids, _ := u.GroupIds()
	groups := make([]uint32, 0, len(gids))
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil {
			a.groups = append(a.groups, n)
			groups = append(groups, uint32(n))
		}
	}
	// Groups is set explicitly so that the child does not keep root's supplementary groups.
	a.cred = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), Groups: groups}
	return a, nil
}

// own hands path to the account, so that the server can write there; a no-op when the
// account is the current user.
func (a *account) own(path string) error {
	if a.cred == nil {
		return nil
	}
	if err := os.Chown(path, a.uid, a.gid); err != nil {
		return fmt.Errorf("pgstart: hand %s to the %s user: %w", path, a.name, err)
	}
	return nil
}

// mkdir creates path with mode (exactly, whatever the umask) unless it exists, and hands it
// to the account.
func (a *account) mkdir(path string, mode os.FileMode) error {
	if err := os.MkdirAll(path, mode); err != nil {
		return fmt.Errorf("pgstart: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("pgstart: %w", err)
	}
	return a.own(path)
}

// checkEnterable reports the first parent directory of path that the account may not
// enter. The server must reach its data directory by path, so a clone under /root, say,
// cannot hold a cluster run by the postgres user; TempDir gives a place that works.
func (a *account) checkEnterable(path string) error {
	if a.cred == nil {
		return nil // the current user created or chose path, so it can reach it
	}
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgstart: %w", err)
		}
		if !a.mayEnter(fi) {
			return fmt.Errorf("pgstart: the %s user cannot enter %s (mode %v), so it cannot reach the data directory %s; "+
				"put the data directory elsewhere, or allow entry with `chmod o+x %s`", a.name, d, fi.Mode().Perm(), path, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (a *account) mayEnter(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell; let the server report it
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == a.uid:
		return perm&0o100 != 0
	case slices.Contains(a.groups, int(st.Gid)):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// run runs a server program as the account, in dir, and returns its combined output. The
// environment loses PG* variables so that a stray PGPORT or PGDATA cannot redirect it.
func (a *account) run(ctx context.Context, dir, program string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if a.home != "" {
		cmd.Env = append(cmd.Env, "HOME="+a.home)
	} else if home, ok := os.LookupEnv("HOME"); ok {
		cmd.Env = append(cmd.Env, "HOME="+home)
	}
	if a.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: a.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// TempDir makes a fresh directory under os.TempDir() that the server user can use, for
// tests: a clone may sit under folders that the postgres user cannot enter (when tests run
// as root in CI), while the system temporary directory is open to everyone. The caller
// removes it when done.
func TempDir() (string, error) {
	a, err := serverAccount()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(os.TempDir(), "registry-pgtest-")
	if err != nil {
		return "", fmt.Errorf("pgstart: %w", err)
	}
	if err := a.mkdir(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
