package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/civictech/registry/internal/apidoc"
	"github.com/civictech/registry/internal/tlog"
)

// config is the configuration shared by the commands that touch the database.
type config struct {
	dataDir     string
	databaseURL string
	addr        string
	baseURL     string
	smtpURL     string
	// share lets a short command use the private server a running "serve" started.
	share bool
}

// flags registers the common flags on fs with defaults from the environment.
func (c *config) flags(set *flag.FlagSet) {
	set.StringVar(&c.dataDir, "data-dir", envOr("REGISTRY_DATA_DIR", "./data"), "data directory")
	set.StringVar(&c.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (unset: private server)")
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// publisherFromEnv is the institution the open data catalogue names: apidoc.DefaultPublisher
// with what the environment sets instead (see the README's configuration).
func publisherFromEnv() apidoc.Publisher {
	p := apidoc.DefaultPublisher
	for _, f := range []struct {
		name  string
		field *string
	}{
		{"REGISTRY_PUBLISHER_NAME", &p.Name}, {"REGISTRY_PUBLISHER_URI", &p.URI},
		{"REGISTRY_CONTACT_NAME", &p.ContactName}, {"REGISTRY_CONTACT_EMAIL", &p.ContactEmail},
		{"REGISTRY_PLACE", &p.Place}, {"REGISTRY_PLACE_URI", &p.PlaceURI},
	} {
		*f.field = envOr(f.name, *f.field)
	}
	return p
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	set := flag.NewFlagSet(name, flag.ContinueOnError)
	set.SetOutput(stderr)
	return set
}

// secretsKeyFile is the key that seals second-factor secrets in the database (see
// auth.SecretBox): lose it and every second factor must be enrolled again.
const secretsKeyFile = "secrets.key"

// loadKey returns the secret key named name from the data directory, creating it with
// n random bytes on first use (mode 0600).
func loadKey(dataDir, name string, n int) ([]byte, error) {
	path := filepath.Join(dataDir, "keys", name)
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < n {
			return nil, fmt.Errorf("key %s is shorter than %d bytes", path, n)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key = make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// loadLogKey returns the transparency log's signer key from the data directory, creating it
// on first use. Losing it does not break the log (the records and their hashes stand), but
// new checkpoints are then signed with a new key that verifiers must be told about.
func loadLogKey(dataDir, origin string) (string, error) {
	path := filepath.Join(dataDir, "keys", "log.key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	skey, _, err := tlog.GenerateKey(origin)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return skey, os.WriteFile(path, []byte(skey+"\n"), 0o600)
}
