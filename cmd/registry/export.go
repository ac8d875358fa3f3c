package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/opendata"
)

// exportCommand writes the public export, the same bytes as GET /api/v1/export.* gives.
func exportCommand(ctx context.Context, env environment, args []string) error {
	c := config{share: true}
	set := newFlagSet("export", env.stderr)
	c.flags(set)
	names := make([]string, len(opendata.Formats))
	for i, f := range opendata.Formats {
		names[i] = string(f)
	}
	formatName := set.String("format", "", "export format: "+strings.Join(names, ", "))
	out := set.String("out", "", "file to write (default: standard output)")
	versions := set.String("versions", "latest", "latest: the latest published revision of each entry; all: every published revision")
	if err := set.Parse(args); err != nil {
		return usageError(err.Error())
	}
	format, ok := opendata.ParseFormat(*formatName)
	if !ok {
		return usageError("registry export: --format must be one of " + strings.Join(names, ", "))
	}
	if *versions != "latest" && *versions != "all" {
		return usageError("registry export: --versions must be latest or all")
	}
	if format == opendata.Eurocities && *versions == "all" {
		return usageError("registry export: the Eurocities projection has one object per entry; drop --versions all")
	}
	d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	defs, err := risk.Load()
	if err != nil {
		return err
	}
	store := algorithms.NewStore(d.pool, defs)
	opts := opendata.Options{AllVersions: *versions == "all"}
	if *out == "" {
		return exportToStdout(ctx, store, env.stdout, format, opts)
	}
	return exportToFile(ctx, store, *out, format, opts)
}

// exportToStdout writes the export to standard output. A reader that stops early, as in
// `registry export --format csv | head`, is not an error; and the write must fail rather
// than SIGPIPE kill the process, which would leave the private database server running.
func exportToStdout(ctx context.Context, store *algorithms.Store, w io.Writer, format opendata.Format, opts opendata.Options) error {
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	err := opendata.Export(ctx, store, w, format, opts)
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// exportToFile writes the export to path. A regular file that could not be written to the
// end is removed, so that a failed export never looks like a complete one; a device such as
// /dev/null is only written to.
func exportToFile(ctx context.Context, store *algorithms.Store, path string, format opendata.Format, opts opendata.Options) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	info, statErr := f.Stat()
	regular := statErr == nil && info.Mode().IsRegular()
	err = opendata.Export(ctx, store, f, format, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && regular {
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return errors.Join(err, rerr)
		}
	}
	return err
}
