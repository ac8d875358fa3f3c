package tlog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"
)

// Source is where a verification reads the log and the published fact sheets: the public
// HTTP API of a register, or a local database.
type Source interface {
	VerifierKey(ctx context.Context) (string, error)
	Checkpoint(ctx context.Context) ([]byte, error)
	Records(ctx context.Context, start int64, limit int) ([]Entry, error)
	// FactSheet returns the canonical JSON of published revision n of an entry, or
	// ErrWithdrawn when the entry was unpublished.
	FactSheet(ctx context.Context, algorithmID, slug string, revision int) ([]byte, error)
	// Published lists every revision the register serves as published.
	Published(ctx context.Context) ([]Ref, error)
}

// Ref names a published revision.
type Ref struct {
	AlgorithmID string
	Slug        string
	Revision    int
}

// ErrWithdrawn marks an entry taken off the register: its fact sheets are no longer served.
var ErrWithdrawn = errors.New("tlog: entry withdrawn")

// Report is what a verification found.
type Report struct {
	Size         int64
	Publications int
	Checked      int
	Withdrawn    int
	Problems     []string
}

// Verify checks the signed checkpoint against the key (pinned when key is not empty, else
// the one the source publishes), recomputes the tree from every record and compares the
// root, then checks that each published revision still has the fact sheet the log
// recorded. It writes progress to out and returns an error when anything does not match.
func Verify(ctx context.Context, src Source, key string, out io.Writer) (*Report, error) {
	if key == "" {
		var err error
		if key, err = src.VerifierKey(ctx); err != nil {
			return nil, err
		}
	}
	signed, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	origin, size, root, err := OpenCheckpoint(signed, key)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "checkpoint of %s: %d records, signature valid\n", origin, size)
	rep := &Report{Size: size}
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			if id < 0 || id >= int64(len(hashes)) {
				return nil, fmt.Errorf("tlog: hash %d not computed", id)
			}
			out[i] = hashes[id]
		}
		return out, nil
	})
	var entries []Entry
	for start := int64(0); start < size; {
		batch, err := src.Records(ctx, start, 1000)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			return nil, fmt.Errorf("tlog: the log has %d records, the checkpoint says %d", start, size)
		}
		for _, e := range batch {
			if e.Index != start || start >= size {
				break
			}
			stored, err := tlog.StoredHashes(start, []byte(e.Body), reader)
			if err != nil {
				return nil, err
			}
			hashes = append(hashes, stored...)
			entries = append(entries, e)
			start++
		}
	}
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		return nil, err
	}
	if got != root {
		return nil, fmt.Errorf("tlog: the records do not hash to the signed root: the log was altered")
	}
	fmt.Fprintf(out, "tree hash recomputed from %d records: matches the checkpoint\n", size)
	checkPublications(ctx, src, entries, rep)
	if err := checkServed(ctx, src, entries, rep); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "publications: %d logged, %d fact sheets checked, %d withdrawn\n", rep.Publications, rep.Checked, rep.Withdrawn)
	for _, p := range rep.Problems {
		fmt.Fprintln(out, "PROBLEM:", p)
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("tlog: %d published fact sheets differ from the log", len(rep.Problems))
	}
	return rep, nil
}

func checkPublications(ctx context.Context, src Source, entries []Entry, rep *Report) {
	withdrawn := map[string]bool{}
	for _, e := range entries {
		if e.Record.Kind == KindUnpublish {
			withdrawn[e.Record.AlgorithmID] = true
		}
	}
	for _, e := range entries {
		r := e.Record
		if r.Kind != KindPublication {
			continue
		}
		rep.Publications++
		if withdrawn[r.AlgorithmID] {
			rep.Withdrawn++
			continue
		}
		sheet, err := src.FactSheet(ctx, r.AlgorithmID, r.Slug, r.Revision)
		switch {
		case errors.Is(err, ErrWithdrawn):
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s revision %d is withdrawn without a logged unpublishing", r.Slug, r.Revision))
		case err != nil:
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s revision %d: %v", r.Slug, r.Revision, err))
		case HashFactSheet(sheet) != r.FactSheetHash:
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s revision %d: the published fact sheet is not the one logged (record %d)", r.Slug, r.Revision, e.Index))
		default:
			rep.Checked++
		}
	}
}

// checkServed makes sure that nothing is served as published that the log does not know:
// a revision published behind the workflow's back would have no record.
func checkServed(ctx context.Context, src Source, entries []Entry, rep *Report) error {
	logged := map[string]bool{}
	for _, e := range entries {
		if e.Record.Kind == KindPublication {
			logged[fmt.Sprintf("%s/%d", e.Record.AlgorithmID, e.Record.Revision)] = true
		}
	}
	served, err := src.Published(ctx)
	if err != nil {
		return err
	}
	for _, ref := range served {
		if !logged[fmt.Sprintf("%s/%d", ref.AlgorithmID, ref.Revision)] {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s revision %d is published but not in the log", ref.Slug, ref.Revision))
		}
	}
	return nil
}
