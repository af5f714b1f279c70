// Package lists manages the block and allow lists rules read with inList:
// validated, audited edits, CSV import and export, and the in-memory
// engine.ListSet every instance scores with, reloaded list by list when any
// instance changes one.
package lists

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Limits on list edits.
const (
	// MaxEntriesPerCall bounds one addListEntries, removeListEntries or CSV
	// import, so one request holds one list's lock briefly; larger lists
	// are loaded in several calls.
	MaxEntriesPerCall = 10_000
	// MaxExportEntries bounds List.csv, which is built in memory; larger
	// lists are read through List.entries.
	MaxExportEntries  = 100_000
	maxDescriptionLen = 1000
	maxNoteLen        = 500
	exportBatch       = 10_000
)

// namePattern: a list's name is written into conditions as a string literal.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Service manages lists and keeps the in-memory ListSet current.
type Service struct {
	db     *bun.DB
	now    func() time.Time
	log    *slog.Logger
	notify func(ctx context.Context, tx bun.IDB, listID int64) error

	current atomic.Pointer[engine.ListSet]
	// reloadMu serializes reloads; names maps each loaded list's ID to its
	// name, so a renamed list replaces its old entry in the set.
	reloadMu sync.Mutex
	names    map[int64]string

	// queuedMu guards queued, the lists a background reload is waiting to
	// load (0: all); background counts those reloads.
	queuedMu   sync.Mutex
	queued     map[int64]bool
	background sync.WaitGroup
}

// New returns a list service. notify runs inside each write transaction (pg_notify, so
// every instance reloads the list at commit); it may be nil.
func New(db *bun.DB, now func() time.Time, log *slog.Logger, notify func(ctx context.Context, tx bun.IDB, listID int64) error) *Service {
	s := &Service{db: db, now: now, log: log, notify: notify, names: map[int64]string{}, queued: map[int64]bool{}}
	s.current.Store(engine.NewListSet())
	return s
}

// Current returns the lists scoring reads; empty until the first Reload.
func (s *Service) Current() *engine.ListSet { return s.current.Load() }

// Reload loads the list listID (its unexpired entries) into memory and swaps
// it in; listID 0 reloads every list.
func (s *Service) Reload(ctx context.Context, listID int64) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(ctx, listID)
}

func (s *Service) reloadLocked(ctx context.Context, listID int64) error {
	if listID == 0 {
		all, err := store.AllLists(ctx, s.db)
		if err != nil {
			return fmt.Errorf("lists: load lists: %w", err)
		}
		loaded := make([]*engine.List, 0, len(all))
		names := make(map[int64]string, len(all))
		for _, l := range all {
			el, err := s.load(ctx, l)
			if err != nil {
				return err
			}
			loaded, names[l.ID] = append(loaded, el), l.Name
		}
		s.current.Store(engine.NewListSet(loaded...))
		s.names = names
		return nil
	}
	l, err := store.ListByID(ctx, s.db, listID)
	if err != nil {
		return fmt.Errorf("lists: load list %d: %w", listID, err)
	}
	el, err := s.load(ctx, l)
	if err != nil {
		return err
	}
	s.current.Store(s.current.Load().With(s.names[l.ID], el))
	s.names[l.ID] = l.Name
	return nil
}

func (s *Service) load(ctx context.Context, l *domain.List) (*engine.List, error) {
	var entries []engine.ListEntry
	err := store.LiveListEntries(ctx, s.db, l.ID, s.now(), func(value string, expiresAt time.Time) {
		entries = append(entries, engine.ListEntry{Value: value, ExpiresAt: expiresAt})
	})
	if err != nil {
		return nil, fmt.Errorf("lists: load entries of list %d: %w", l.ID, err)
	}
	return engine.NewList(l.Name, engine.ListKind(l.Kind), entries)
}

// ReloadSoon reloads the list listID (0: every list) in the background, so a
// large list does not hold up the caller (the notification listener, which
// also relays alerts). Requests for a list already waiting to load are
// merged into that load: a burst of changes costs one or two loads.
func (s *Service) ReloadSoon(ctx context.Context, listID int64) {
	s.queuedMu.Lock()
	defer s.queuedMu.Unlock()
	if s.queued[listID] {
		return
	}
	s.queued[listID] = true
	s.background.Go(func() {
		s.reloadMu.Lock()
		s.queuedMu.Lock()
		// From here a new change queues another load, which will see it.
		delete(s.queued, listID)
		s.queuedMu.Unlock()
		err := s.reloadLocked(ctx, listID)
		s.reloadMu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.log.Error("lists: reload", "list_id", listID, "err", err)
		}
	})
}

// Wait returns once the background reloads have finished; cancel their context first.
func (s *Service) Wait() { s.background.Wait() }

// reloadAfterChange makes a committed change visible here at once; the
// notification reloads it on every instance, this one included, if this fails.
func (s *Service) reloadAfterChange(ctx context.Context, listID int64) {
	if err := s.Reload(context.WithoutCancel(ctx), listID); err != nil {
		s.log.Error("lists: reload after change", "list_id", listID, "err", err)
	}
}

// Lists returns every list, by name.
func (s *Service) Lists(ctx context.Context) ([]*domain.List, error) {
	return store.AllLists(ctx, s.db)
}

// List returns one list.
func (s *Service) List(ctx context.Context, id int64) (*domain.List, error) {
	return store.ListByID(ctx, s.db, id)
}

// Entries pages through a list's entries, expired ones included, oldest first.
func (s *Service) Entries(ctx context.Context, listID int64, p page.Request) (page.Result[*domain.ListEntry], error) {
	return store.ListEntriesPage(ctx, s.db, listID, p)
}

// EntryCount counts a list's entries, expired ones included.
func (s *Service) EntryCount(ctx context.Context, listID int64) (int, error) {
	return store.CountListEntries(ctx, s.db, listID)
}

// Input creates (ID nil) or updates a list. A list's kind cannot change:
// its entries were validated for it. Nil Description keeps (or, on create, is "").
type Input struct {
	ID          *int64
	Name        string
	Kind        domain.ListKind
	Mode        domain.ListMode
	Description *string
}

// Upsert validates and creates or updates a list.
func (s *Service) Upsert(ctx context.Context, p auth.Principal, in Input) (*domain.List, error) {
	in.Name = strings.TrimSpace(in.Name)
	if !namePattern.MatchString(in.Name) {
		return nil, apperr.Invalid("name", "must be 1 to 64 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit, e.g. blocked_ips")
	}
	if !engine.ListKind(in.Kind).Valid() {
		return nil, apperr.Invalid("kind", "is not a list kind")
	}
	if in.Mode != domain.ListBlock && in.Mode != domain.ListAllow {
		return nil, apperr.Invalid("mode", "must be BLOCK or ALLOW")
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > maxDescriptionLen {
			return nil, apperr.Invalid("description", "must be at most 1000 characters")
		}
		in.Description = &d
	}
	actor := p.UserID
	now := s.now()
	var out *domain.List
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if in.ID == nil {
			out = &domain.List{Name: in.Name, Kind: in.Kind, Mode: in.Mode, CreatedBy: &actor, UpdatedBy: &actor, CreatedAt: now, UpdatedAt: now}
			if in.Description != nil {
				out.Description = *in.Description
			}
			if err := store.InsertList(ctx, tx, out); err != nil {
				return err
			}
			return s.record(ctx, tx, p, out.ID, "list.created", map[string]any{"name": out.Name, "kind": out.Kind, "mode": out.Mode, "description": out.Description})
		}
		cur, err := store.ListForUpdate(ctx, tx, *in.ID)
		if err != nil {
			return err
		}
		if cur.Kind != in.Kind {
			return apperr.Invalid("kind", fmt.Sprintf("cannot change (the list is %s): its entries were validated for it; create another list", cur.Kind))
		}
		next := *cur
		next.Name, next.Mode, next.UpdatedBy, next.UpdatedAt = in.Name, in.Mode, &actor, now
		if in.Description != nil {
			next.Description = *in.Description
		}
		changes := map[string]any{}
		for field, pair := range map[string][2]string{
			"name": {cur.Name, next.Name}, "mode": {string(cur.Mode), string(next.Mode)}, "description": {cur.Description, next.Description},
		} {
			if pair[0] != pair[1] {
				changes[field] = map[string]string{"from": pair[0], "to": pair[1]}
			}
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if err := store.UpdateList(ctx, tx, &next); err != nil {
			return err
		}
		out = &next
		return s.record(ctx, tx, p, out.ID, "list.updated", map[string]any{"changes": changes})
	})
	if err != nil {
		return nil, err
	}
	s.reloadAfterChange(ctx, out.ID)
	return out, nil
}

// EntryInput is one value to add; a nil ExpiresAt never expires.
type EntryInput struct {
	Value     string
	ExpiresAt *time.Time
	Note      *string
}

// AddEntries validates and normalises the entries for the list's kind and
// adds them; a value already listed takes the new expiry and note.
func (s *Service) AddEntries(ctx context.Context, p auth.Principal, listID int64, entries []EntryInput) (*domain.List, error) {
	return s.addEntries(ctx, p, listID, entries, "list.entries_added", func(i int) string {
		if i < 0 {
			return "entries"
		}
		return fmt.Sprintf("entries[%d]", i)
	})
}

// addEntries adds entries under the audit action; field names entry i in
// errors (i < 0: the whole input).
func (s *Service) addEntries(ctx context.Context, p auth.Principal, listID int64, entries []EntryInput, action string, field func(i int) string) (*domain.List, error) {
	switch {
	case len(entries) == 0:
		return nil, apperr.Invalid(field(-1), "give at least one entry")
	case len(entries) > MaxEntriesPerCall:
		return nil, apperr.Invalid(field(-1), fmt.Sprintf("at most %d entries per call", MaxEntriesPerCall))
	}
	actor := p.UserID
	now := s.now()
	var out *domain.List
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		l, err := store.ListForUpdate(ctx, tx, listID)
		if err != nil {
			return err
		}
		rows := make([]*domain.ListEntry, 0, len(entries))
		at := make(map[string]int, len(entries)) // a value given twice: the last one wins
		for i, e := range entries {
			v, err := engine.NormalizeListValue(engine.ListKind(l.Kind), e.Value)
			if err != nil {
				return apperr.Invalid(field(i)+".value", err.Error())
			}
			if e.ExpiresAt != nil && !e.ExpiresAt.After(now) {
				return apperr.Invalid(field(i)+".expiresAt", "must be in the future")
			}
			note := ""
			if e.Note != nil {
				note = strings.TrimSpace(*e.Note)
			}
			if utf8.RuneCountInString(note) > maxNoteLen {
				return apperr.Invalid(field(i)+".note", "must be at most 500 characters")
			}
			row := &domain.ListEntry{ListID: l.ID, Value: v, ExpiresAt: e.ExpiresAt, Note: note, CreatedBy: &actor, CreatedAt: now}
			if j, seen := at[v]; seen {
				rows[j] = row
				continue
			}
			at[v] = len(rows)
			rows = append(rows, row)
		}
		if err := store.UpsertListEntries(ctx, tx, rows); err != nil {
			return err
		}
		values := make([]string, len(rows))
		for i, r := range rows {
			values[i] = r.Value
		}
		out = l
		return s.record(ctx, tx, p, l.ID, action, map[string]any{"count": len(rows), "values": sample(values)})
	})
	if err != nil {
		return nil, err
	}
	s.reloadAfterChange(ctx, out.ID)
	return out, nil
}

// RemoveEntries removes values from a list; values not listed are ignored.
func (s *Service) RemoveEntries(ctx context.Context, p auth.Principal, listID int64, values []string) (*domain.List, error) {
	switch {
	case len(values) == 0:
		return nil, apperr.Invalid("values", "give at least one value")
	case len(values) > MaxEntriesPerCall:
		return nil, apperr.Invalid("values", fmt.Sprintf("at most %d values per call", MaxEntriesPerCall))
	}
	var out *domain.List
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		l, err := store.ListForUpdate(ctx, tx, listID)
		if err != nil {
			return err
		}
		normal := make([]string, len(values))
		for i, v := range values {
			if normal[i], err = engine.NormalizeListValue(engine.ListKind(l.Kind), v); err != nil {
				return apperr.Invalid(fmt.Sprintf("values[%d]", i), err.Error())
			}
		}
		n, err := store.DeleteListEntries(ctx, tx, l.ID, normal)
		if err != nil {
			return err
		}
		out = l
		return s.record(ctx, tx, p, l.ID, "list.entries_removed", map[string]any{"count": n, "values": sample(normal)})
	})
	if err != nil {
		return nil, err
	}
	s.reloadAfterChange(ctx, out.ID)
	return out, nil
}

// sample keeps an audit entry small: the first values of a bulk change.
func sample(values []string) []string {
	return values[:min(len(values), 100)]
}

// record audits a change and signals it, in the change's transaction.
func (s *Service) record(ctx context.Context, tx bun.IDB, p auth.Principal, listID int64, action string, details map[string]any) error {
	actor := p.UserID
	if err := store.Audit(ctx, tx, &actor, action, "list", strconv.FormatInt(listID, 10), details, auth.ClientIP(ctx)); err != nil {
		return err
	}
	if s.notify == nil {
		return nil
	}
	return s.notify(ctx, tx, listID)
}
