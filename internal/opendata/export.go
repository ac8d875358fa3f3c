// Package opendata publishes the register as open data: every published entry in JSON,
// NDJSON and CSV, a Frictionless data package describing the CSV, and the projection on the
// Eurocities Algorithmic Transparency Standard with its JSON Schema. The HTTP handlers and
// the `registry export` command share one writer, Export, so both give the same bytes.
//
// Exports stream: each record is read from the database, encoded and written before the
// next is read, so memory stays flat whatever the size of the register.
package opendata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/civictech/registry/internal/algorithms"
)

// Format is an export format.
type Format string

// The export formats.
const (
	JSON       Format = "json"       // a JSON array of native records
	NDJSON     Format = "ndjson"     // one native record per line
	CSV        Format = "csv"        // one row per record, described by the data package
	Eurocities Format = "eurocities" // a JSON array of Eurocities standard objects
)

// Formats lists every format, in the order the command line names them.
var Formats = []Format{JSON, NDJSON, CSV, Eurocities}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, bool) {
	for _, f := range Formats {
		if string(f) == s {
			return f, true
		}
	}
	return "", false
}

// Source reads published revisions one at a time; *algorithms.Store is the real one.
type Source interface {
	EachPublished(ctx context.Context, opts algorithms.EachOptions, fn func(*algorithms.Record) error) error
}

// Options tune an export.
type Options struct {
	// AllVersions exports every published revision instead of the latest of each entry.
	// The Eurocities projection ignores it: the standard has one object per registration.
	AllVersions bool
	// Flush, when set, is called every FlushEvery records after the buffered bytes were
	// handed to the writer, so that an HTTP client receives the export as it is produced.
	Flush      func() error
	FlushEvery int
}

// bufferSize is the write buffer between the encoders and the destination.
const bufferSize = 64 << 10

// Export writes the published entries to w in format f. Nothing is written before the first
// record has been read, so an error from the query itself leaves w untouched and the caller
// can still answer with a proper error.
func Export(ctx context.Context, src Source, w io.Writer, f Format, opts Options) error {
	enc, err := newEncoder(f)
	if err != nil {
		return err
	}
	every := opts.FlushEvery
	if every <= 0 {
		every = 100
	}
	bw := bufio.NewWriterSize(w, bufferSize)
	started, n := false, 0
	each := algorithms.EachOptions{AllVersions: opts.AllVersions && f != Eurocities}
	err = src.EachPublished(ctx, each, func(rec *algorithms.Record) error {
		if !started {
			started = true
			if err := enc.begin(bw); err != nil {
				return err
			}
		}
		if err := enc.record(bw, rec); err != nil {
			return err
		}
		if n++; opts.Flush != nil && n%every == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
			return opts.Flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !started {
		if err := enc.begin(bw); err != nil {
			return err
		}
	}
	if err := enc.end(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// An encoder writes one format: an opening, each record, a closing.
type encoder interface {
	begin(w *bufio.Writer) error
	record(w *bufio.Writer, rec *algorithms.Record) error
	end(w *bufio.Writer) error
}

func newEncoder(f Format) (encoder, error) {
	switch f {
	case JSON:
		return &arrayEncoder{convert: native}, nil
	case NDJSON:
		return &lineEncoder{}, nil
	case CSV:
		return &csvEncoder{}, nil
	case Eurocities:
		return &arrayEncoder{convert: func(rec *algorithms.Record) any { return Project(rec) }}, nil
	}
	return nil, errUnknownFormat(f)
}

type errUnknownFormat Format

func (e errUnknownFormat) Error() string { return "opendata: unknown export format " + string(e) }

func native(rec *algorithms.Record) any { return rec }

// arrayEncoder writes a JSON array with one element per line, so that the file is still
// easy to look at and to split with line tools.
type arrayEncoder struct {
	convert func(*algorithms.Record) any
	buf     bytes.Buffer
	enc     *json.Encoder
	n       int
}

func (a *arrayEncoder) begin(w *bufio.Writer) error {
	a.enc = json.NewEncoder(&a.buf)
	_, err := w.WriteString("[")
	return err
}

func (a *arrayEncoder) record(w *bufio.Writer, rec *algorithms.Record) error {
	a.buf.Reset()
	if err := a.enc.Encode(a.convert(rec)); err != nil {
		return err
	}
	sep := ",\n"
	if a.n == 0 {
		sep = "\n"
	}
	a.n++
	if _, err := w.WriteString(sep); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(a.buf.Bytes(), []byte("\n")))
	return err
}

func (a *arrayEncoder) end(w *bufio.Writer) error {
	_, err := w.WriteString("\n]\n")
	return err
}

// lineEncoder writes newline-delimited JSON: json.Encoder puts each value on one line.
type lineEncoder struct{ enc *json.Encoder }

func (l *lineEncoder) begin(w *bufio.Writer) error {
	l.enc = json.NewEncoder(w)
	return nil
}

func (l *lineEncoder) record(_ *bufio.Writer, rec *algorithms.Record) error { return l.enc.Encode(rec) }

func (l *lineEncoder) end(*bufio.Writer) error { return nil }
