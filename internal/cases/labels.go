package cases

import (
	"context"
	"regexp"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// SourceAnalyst labels come from analysts' verdicts on risk events.
const SourceAnalyst = "ANALYST"

var sourcePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// LabelTransaction records ground truth about a transaction, e.g. from a chargeback feed.
func (s *Service) LabelTransaction(ctx context.Context, p auth.Principal, id int64, value domain.Label, source, note string) (*domain.TransactionLabel, error) {
	if !sourcePattern.MatchString(source) {
		return nil, apperr.Invalid("source", "must be 1 to 32 upper-case letters, digits or '_', e.g. CHARGEBACK")
	}
	if len(note) > maxNoteLen {
		return nil, apperr.Invalid("note", "must be at most 2000 characters")
	}
	var l *domain.TransactionLabel
	err := store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		t, err := store.TransactionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		l, err = label(ctx, tx, p, t.UserID, t.ID, value, source, note)
		return err
	})
	return l, err
}

// label writes a label and its audit entry inside the caller's transaction.
func label(ctx context.Context, tx bun.IDB, p auth.Principal, userID, txID int64, value domain.Label, source, note string) (*domain.TransactionLabel, error) {
	l := &domain.TransactionLabel{UserID: userID, TransactionID: txID, Label: value, Source: source, Note: note, LabelledByID: &p.UserID}
	if err := store.UpsertLabel(ctx, tx, l); err != nil {
		return nil, err
	}
	return l, store.Audit(ctx, tx, &p.UserID, "transaction.labelled", "transaction", strconv.FormatInt(txID, 10),
		map[string]any{"label": value, "source": source}, auth.ClientIP(ctx))
}
