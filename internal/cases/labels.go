package cases

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// LabelTransaction records ground truth about a transaction: a staff verdict,
// or a service account's feed (e.g. chargebacks) on a transaction it submitted.
// A feed never replaces an analyst's verdict (CONFLICT).
func (s *Service) LabelTransaction(ctx context.Context, p auth.Principal, id int64, value domain.Label, requested, note string) (*domain.TransactionLabel, error) {
	source, err := access.LabelSource(p, requested)
	if err != nil {
		return nil, err
	}
	if len(note) > maxNoteLen {
		return nil, apperr.Invalid("note", "must be at most 2000 characters")
	}
	var l *domain.TransactionLabel
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		t, err := store.TransactionByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if !access.SeeTransaction(p, t) {
			return apperr.ErrNotFound
		}
		l, err = label(ctx, tx, p, t.UserID, t.ID, value, source, note)
		return err
	})
	return l, err
}

// label writes a label and its audit entry inside the caller's transaction.
// Analysts' verdicts win: only staff replace an ANALYST label.
func label(ctx context.Context, tx bun.IDB, p auth.Principal, userID, txID int64, value domain.Label, source, note string) (*domain.TransactionLabel, error) {
	l := &domain.TransactionLabel{UserID: userID, TransactionID: txID, Label: value, Source: source, Note: note, LabelledByID: &p.UserID}
	written, err := store.UpsertLabel(ctx, tx, l, source != access.LabelAnalyst)
	if err != nil {
		return nil, err
	}
	if !written {
		return nil, apperr.New(apperr.Conflict, "an analyst's verdict on this transaction stands; a feed cannot replace it")
	}
	return l, store.Audit(ctx, tx, &p.UserID, "transaction.labelled", "transaction", strconv.FormatInt(txID, 10),
		map[string]any{"label": value, "source": source}, auth.ClientIP(ctx))
}
