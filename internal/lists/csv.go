package lists

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// The CSV form of a list is one entry per line: value, expiresAt (RFC 3339,
// empty for never), note; the header line "value,expiresAt,note" is written
// on export and optional on import, and an import line may stop after the
// value.
var csvHeader = []string{"value", "expiresAt", "note"}

// Import adds the entries of a CSV document (see csvHeader) as AddEntries
// does, all or none; errors name the CSV line.
func (s *Service) Import(ctx context.Context, p auth.Principal, listID int64, doc string) (*domain.List, error) {
	r := csv.NewReader(strings.NewReader(doc))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	var (
		entries []EntryInput
		lines   []int
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var parseErr *csv.ParseError
		switch {
		case errors.As(err, &parseErr):
			return nil, apperr.Invalid("csv", fmt.Sprintf("line %d: %v", parseErr.Line, parseErr.Err))
		case err != nil:
			return nil, apperr.Invalid("csv", err.Error())
		}
		line, _ := r.FieldPos(0)
		switch {
		case len(entries) == 0 && strings.EqualFold(strings.TrimSpace(rec[0]), csvHeader[0]):
			continue
		case len(rec) > len(csvHeader):
			return nil, apperr.Invalid("csv", fmt.Sprintf("line %d: has %d fields, at most 3 (value, expiresAt, note)", line, len(rec)))
		case len(entries) == MaxEntriesPerCall:
			return nil, apperr.Invalid("csv", fmt.Sprintf("at most %d entries per import", MaxEntriesPerCall))
		}
		e := EntryInput{Value: rec[0]}
		if len(rec) > 1 && strings.TrimSpace(rec[1]) != "" {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[1]))
			if err != nil {
				return nil, apperr.Invalid("csv", fmt.Sprintf("line %d: expiresAt %q is not an RFC 3339 time such as 2027-01-31T00:00:00Z", line, rec[1]))
			}
			e.ExpiresAt = &t
		}
		if len(rec) > 2 {
			note := rec[2]
			e.Note = &note
		}
		entries = append(entries, e)
		lines = append(lines, line)
	}
	return s.addEntries(ctx, p, listID, entries, "list.imported", func(i int) string {
		if i < 0 {
			return "csv"
		}
		return fmt.Sprintf("csv line %d", lines[i])
	})
}

// Export renders a list's entries, expired ones included, as CSV with the
// header line, oldest first. Lists over MaxExportEntries are refused: read
// them through List.entries.
func (s *Service) Export(ctx context.Context, listID int64) (string, error) {
	n, err := store.CountListEntries(ctx, s.db, listID)
	if err != nil {
		return "", err
	}
	if n > MaxExportEntries {
		return "", apperr.New(apperr.BadInput, fmt.Sprintf("the list has %d entries; csv exports at most %d: page through entries instead", n, MaxExportEntries))
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(csvHeader) //nolint:errcheck // a strings.Builder does not fail; w.Error reports anything else
	err = store.AllListEntries(ctx, s.db, listID, exportBatch, func(rows []*domain.ListEntry) error {
		for _, r := range rows {
			exp := ""
			if r.ExpiresAt != nil {
				exp = r.ExpiresAt.UTC().Format(time.RFC3339)
			}
			w.Write([]string{r.Value, exp, r.Note}) //nolint:errcheck
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	w.Flush()
	return b.String(), w.Error()
}
