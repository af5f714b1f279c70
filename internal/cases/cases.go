// Package cases reads (and, for analysts, works) the records of the risk
// workflow — transactions, risk events and alerts — with their object-level
// visibility rules: staff see everything, customers only their own, service
// accounts only the transactions they submitted.
package cases

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/access"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Service reads and handles cases.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// New returns a case service.
func New(db *bun.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// Transaction loads a transaction the caller may see.
func (s *Service) Transaction(ctx context.Context, p auth.Principal, id int64) (*domain.Transaction, error) {
	t, err := store.TransactionByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !access.SeeTransaction(p, t) {
		return nil, apperr.ErrNotFound
	}
	return t, nil
}

// Transactions lists the transactions the caller may see.
func (s *Service) Transactions(ctx context.Context, p auth.Principal, f domain.TransactionFilter, o domain.ListOrder, req page.Request) (page.Result[*domain.Transaction], error) {
	access.NarrowTransactions(p, &f)
	return store.ListTransactions(ctx, s.db, f, o, req)
}

// DeviceTransactions lists the transactions made on a device that the caller may see, newest first.
func (s *Service) DeviceTransactions(ctx context.Context, p auth.Principal, deviceID int64, req page.Request) (page.Result[*domain.Transaction], error) {
	f := domain.TransactionFilter{DeviceID: &deviceID}
	if !access.DeviceTransactions(p, &f) {
		return page.Result[*domain.Transaction]{}, nil
	}
	return store.ListTransactions(ctx, s.db, f, domain.ListOrder{}, req)
}

// RiskEvent loads an event the caller may see.
func (s *Service) RiskEvent(ctx context.Context, p auth.Principal, id int64) (*domain.RiskEvent, error) {
	e, err := store.RiskEventByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !access.SeeCase(p, e.UserID) {
		return nil, apperr.ErrNotFound
	}
	return e, nil
}

// RiskEvents lists the events the caller may see.
func (s *Service) RiskEvents(ctx context.Context, p auth.Principal, f domain.RiskEventFilter, o domain.ListOrder, req page.Request) (page.Result[*domain.RiskEvent], error) {
	access.OwnOnly(p, &f.UserID)
	return store.ListRiskEvents(ctx, s.db, f, o, req)
}

// Alert loads an alert the caller may see.
func (s *Service) Alert(ctx context.Context, p auth.Principal, id int64) (*domain.Alert, error) {
	a, err := store.AlertByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !access.SeeCase(p, a.UserID) {
		return nil, apperr.ErrNotFound
	}
	return a, nil
}

// Alerts lists the alerts the caller may see.
func (s *Service) Alerts(ctx context.Context, p auth.Principal, f domain.AlertFilter, req page.Request) (page.Result[*domain.Alert], error) {
	access.OwnOnly(p, &f.UserID)
	return store.ListAlerts(ctx, s.db, f, req)
}
