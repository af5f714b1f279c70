package cases

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Label sources. A label's source follows its author's role: staff give
// ANALYST verdicts; service accounts (payment systems) post feed kinds of their
// own, CHARGEBACK unless they name another, and never ANALYST.
const (
	SourceAnalyst    = "ANALYST"
	SourceChargeback = "CHARGEBACK"
)

var sourcePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// labelSource decides a label's source from the caller's role; the requested
// source ("" when not given) only picks among the caller's own kinds.
func labelSource(p auth.Principal, requested string) (string, error) {
	if requested != "" && !sourcePattern.MatchString(requested) {
		return "", apperr.Invalid("source", "must be 1 to 32 upper-case letters, digits or '_', e.g. CHARGEBACK")
	}
	switch {
	case p.Role.Staff():
		if requested != "" && requested != SourceAnalyst {
			return "", apperr.New(apperr.Forbidden, "staff labels are ANALYST verdicts; feed kinds belong to service accounts")
		}
		return SourceAnalyst, nil
	case p.Role == domain.RoleService:
		if requested == "" {
			return SourceChargeback, nil
		}
		if strings.HasPrefix(requested, SourceAnalyst) {
			return "", apperr.New(apperr.Forbidden, "a service account cannot post an analyst's verdict")
		}
		return requested, nil
	}
	return "", apperr.ErrForbidden
}

// LabelTransaction records ground truth about a transaction: a staff verdict,
// or a service account's feed (e.g. chargebacks) on a transaction it submitted.
// A feed never replaces an analyst's verdict (CONFLICT).
func (s *Service) LabelTransaction(ctx context.Context, p auth.Principal, id int64, value domain.Label, requested, note string) (*domain.TransactionLabel, error) {
	source, err := labelSource(p, requested)
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
		if !CanSeeTransaction(p, t) {
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
	written, err := store.UpsertLabel(ctx, tx, l, source != SourceAnalyst)
	if err != nil {
		return nil, err
	}
	if !written {
		return nil, apperr.New(apperr.Conflict, "an analyst's verdict on this transaction stands; a feed cannot replace it")
	}
	return l, store.Audit(ctx, tx, &p.UserID, "transaction.labelled", "transaction", strconv.FormatInt(txID, 10),
		map[string]any{"label": value, "source": source}, auth.ClientIP(ctx))
}
