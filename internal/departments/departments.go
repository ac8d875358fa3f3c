// Package departments keeps the council's departments, named in Catalan, Spanish and
// English. The data office manages them (/admin/departments); authors choose an entry's
// department from the active ones, so that the same unit is spelt the same way on every
// fact sheet and the register's department filter groups them.
package departments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/i18n"
)

// Department is one unit of the council.
type Department struct {
	ID     string
	Names  map[string]string // by language code; all three are required
	Active bool
}

// Name returns the department's name in lang.
func (d Department) Name(lang i18n.Lang) string { return d.Names[string(lang)] }

// Actor is who changes the list, for the audit trail.
type Actor struct {
	ID, Email, ClientIP, RequestID string
}

// maxName is the longest name, as long as the fact sheet's department field allows.
const maxName = 300

// Store reads and changes the departments.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns the departments of db.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

// List returns the departments in Catalan alphabetical order, the inactive ones too when
// all is true.
func (s *Store) List(ctx context.Context, all bool) ([]Department, error) {
	rows, err := s.db.Query(ctx, `SELECT id, names, active FROM departments
		WHERE active OR $1 ORDER BY names ->> 'ca' COLLATE "ca-x-icu", id`, all)
	if err != nil {
		return nil, fmt.Errorf("departments: list: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanDepartment)
	if err != nil {
		return nil, fmt.Errorf("departments: list: %w", err)
	}
	return list, nil
}

// Names returns the names in lang of the active departments, for authors to choose from.
func (s *Store) Names(ctx context.Context, lang i18n.Lang) ([]string, error) {
	list, err := s.List(ctx, false)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, d := range list {
		names[i] = d.Name(lang)
	}
	return names, nil
}

// Lookup finds the active department whose name in lang is name, whatever its case and
// spacing: its names in every language, or nil when there is none. acceptable tells
// whether an entry may name it: a listed department, or any name while no department is
// active. (It is algorithms.DepartmentList.)
func (s *Store) Lookup(ctx context.Context, lang, name string) (names map[string]string, acceptable bool, err error) {
	var raw []byte
	var listEmpty bool
	err = s.db.QueryRow(ctx, `SELECT (SELECT names FROM departments WHERE active AND lower(names ->> $1) = lower($2) LIMIT 1),
		NOT EXISTS (SELECT FROM departments WHERE active)`,
		lang, strings.Join(strings.Fields(name), " ")).Scan(&raw, &listEmpty)
	if err != nil {
		return nil, false, fmt.Errorf("departments: lookup: %w", err)
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &names); err != nil {
			return nil, false, fmt.Errorf("departments: lookup: %w", err)
		}
	}
	return names, names != nil || listEmpty, nil
}

// ByID returns one department, NotFound when there is none.
func (s *Store) ByID(ctx context.Context, id string) (*Department, error) {
	rows, err := s.db.Query(ctx, `SELECT id, names, active FROM departments WHERE id::text = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDepartment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "")
	}
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	return &d, nil
}

func scanDepartment(row pgx.CollectableRow) (Department, error) {
	var d Department
	var names []byte
	if err := row.Scan(&d.ID, &names, &d.Active); err != nil {
		return d, err
	}
	return d, json.Unmarshal(names, &d.Names)
}

// Add creates a department, active.
func (s *Store) Add(ctx context.Context, names map[string]string, by Actor) (*Department, error) {
	names, err := validNames(names)
	if err != nil {
		return nil, err
	}
	d := &Department{Names: names, Active: true}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO departments (names) VALUES ($1) RETURNING id`, names).Scan(&d.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.event(audit.DepartmentAdded, names["ca"], map[string]any{"id": d.ID, "names": names}))
	})
	if err != nil {
		return nil, nameTaken(err, "add")
	}
	return d, nil
}

// Update renames a department and sets whether authors may choose it. Entries keep the
// name they were published with: a published revision never changes.
func (s *Store) Update(ctx context.Context, id string, names map[string]string, active bool, by Actor) error {
	names, err := validNames(names)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE departments SET names = $2, active = $3, updated_at = now() WHERE id::text = $1`,
			id, names, active)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.NotFound, "")
		}
		return audit.Record(ctx, tx, by.event(audit.DepartmentChanged, names["ca"],
			map[string]any{"id": id, "names": names, "active": active}))
	})
	return nameTaken(err, "update")
}

func nameTaken(err error, what string) error {
	if err == nil {
		return nil
	}
	if database.IsUniqueViolation(err, "departments_name_ca") {
		return apperr.InvalidFields("Please correct the errors below.",
			map[string]string{"name_ca": "Another department already has this name."})
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return fmt.Errorf("departments: %s: %w", what, err)
}

// validNames trims the names and checks that each language has one of a sensible length.
func validNames(in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	fields := map[string]string{}
	for _, l := range i18n.Langs {
		name := strings.Join(strings.Fields(in[string(l)]), " ")
		switch {
		case name == "":
			fields["name_"+string(l)] = "Enter the department's name in this language."
		case utf8.RuneCountInString(name) > maxName:
			fields["name_"+string(l)] = "The name is too long."
		}
		out[string(l)] = name
	}
	if len(fields) > 0 {
		return nil, apperr.InvalidFields("Please correct the errors below.", fields)
	}
	return out, nil
}

func (a Actor) event(action, subject string, details map[string]any) audit.Event {
	return audit.Event{ActorID: a.ID, ActorEmail: a.Email, ClientIP: a.ClientIP, RequestID: a.RequestID,
		Action: action, Subject: subject, Details: details}
}
