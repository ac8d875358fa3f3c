// Command registry runs the public register of the city's algorithms: the web server, its
// database migrations and the administration commands. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

const usage = `usage: registry <command> [flags]

commands:
  serve [--addr A] [--data-dir D] [--demo]   run the web server
        [--replica-url U]                    (public reads from a streaming replica)
  migrate                                    apply the database migrations
  user add EMAIL --name N --role R [--role R] --password-stdin
  user list | disable EMAIL | enable EMAIL | roles EMAIL --role R… | passwd EMAIL --password-stdin
  token create EMAIL --name N                print a new API token (shown only this once)
  token list EMAIL | revoke EMAIL ID
  seed --demo | --scale N [--owner EMAIL]    demo content / N synthetic published entries, without serving
  export --format json|ndjson|csv|eurocities [--out F] [--versions all]   the public export
  import FILE [--owner EMAIL]                drafts from a native or Eurocities export, or a Hugging Face model card
  site DIR [--base-url URL]                  the public site as static files, for any web server or CDN
  log verify [--url URL] [--key KEY]         check the transparency log and every published fact sheet against it
  version                                    print the version

configuration (flags win over the environment):
  DATABASE_URL       PostgreSQL to use; unset: a private server under the data directory
  DATABASE_REPLICA_URL  serve: a streaming replica of it, for public reads (serve --replica-url)
  REGISTRY_DATA_DIR  data directory (default ./data)
  REGISTRY_ADDR      listen address (default 127.0.0.1:8080)
  REGISTRY_BASE_URL  public address, e.g. https://algorismes.example.cat`

// Main runs one command. It is main without the process around it, so tests can run the
// real program in-process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(usage)
	}
	env := environment{stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return serve(ctx, env, args[1:])
	case "migrate":
		return migrateCommand(ctx, env, args[1:])
	case "user":
		return userCommand(ctx, env, args[1:])
	case "token":
		return tokenCommand(ctx, env, args[1:])
	case "seed":
		return seedCommand(ctx, env, args[1:])
	case "export":
		return exportCommand(ctx, env, args[1:])
	case "import":
		return importCommand(ctx, env, args[1:])
	case "site":
		return siteCommand(ctx, env, args[1:])
	case "log":
		return logCommand(ctx, env, args[1:])
	case "version":
		fmt.Fprintln(stdout, "registry", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError(fmt.Sprintf("registry: unknown command %q\n\n%s", args[0], usage))
}

type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}
