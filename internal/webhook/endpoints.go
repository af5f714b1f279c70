package webhook

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/store"
)

// masked stands for a secret wherever one would be returned; sent back, it keeps the stored secret.
const masked = "***"

// Endpoint is an admin-managed webhook receiver.
type Endpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints,alias:we"`

	ID          int64    `bun:"id,pk,autoincrement"`
	URL         string   `bun:"url"`
	Description string   `bun:"description"`
	EventTypes  []string `bun:"event_types,array"`
	Enabled     bool     `bun:"enabled"`
	// StoredSecret signs deliveries; the API never returns it (Secret).
	StoredSecret        string     `bun:"secret"`
	PreviousSecret      *string    `bun:"previous_secret"`
	PreviousSecretUntil *time.Time `bun:"previous_secret_until"`
	CreatedBy           *int64     `bun:"created_by"`
	CreatedAt           time.Time  `bun:"created_at"`
	UpdatedAt           time.Time  `bun:"updated_at"`
}

// Secret is the secret as the API shows it: masked.
func (e *Endpoint) Secret() string { return masked }

// Input creates (ID nil) or updates an endpoint; nil fields keep their value.
type Input struct {
	ID          *int64
	URL         string
	Description *string
	// EventTypes filters the events sent; empty sends every type.
	EventTypes []string
	Enabled    *bool
	// Secret sets a caller-chosen whsec_ secret ("***" keeps the stored one).
	Secret *string
	// RotateSecret generates a new secret, returned once.
	RotateSecret *bool
}

// Upserted is an endpoint as saved, with the secret the server generated
// (on creation without a secret, or a rotation) — returned this once only.
type Upserted struct {
	Endpoint        *Endpoint
	GeneratedSecret *string
}

// Service manages endpoints.
type Service struct {
	db  *bun.DB
	now func() time.Time
	// overlap is how long a replaced secret keeps signing.
	overlap time.Duration
}

// NewService returns the endpoint service; a rotated-out secret keeps
// signing for overlap.
func NewService(db *bun.DB, now func() time.Time, overlap time.Duration) *Service {
	return &Service{db: db, now: now, overlap: overlap}
}

// Limits of an endpoint's fields.
const (
	maxURLBytes         = 2000
	maxDescriptionChars = 500
)

// ValidURL accepts an absolute http or https URL with a host.
func ValidURL(raw string) error {
	bad := apperr.Invalid("url", "must be an absolute http:// or https:// URL with a host, at most 2000 bytes")
	if len(raw) > maxURLBytes || strings.TrimSpace(raw) != raw {
		return bad
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return bad
	}
	return nil
}

func validEventTypes(types []string) ([]string, error) {
	out := []string{}
	for _, t := range types {
		if !slices.Contains(outbox.EventTypes, t) {
			return nil, apperr.Invalid("eventTypes", "unknown event type "+strconv.Quote(t)+"; known: "+strings.Join(outbox.EventTypes, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Upsert creates or updates an endpoint. A new secret (given, or generated
// with RotateSecret) replaces the current one, which keeps signing alongside
// it for the overlap, so receivers can switch without losing a message.
func (s *Service) Upsert(ctx context.Context, p auth.Principal, in Input) (*Upserted, error) {
	if err := ValidURL(in.URL); err != nil {
		return nil, err
	}
	types, err := validEventTypes(in.EventTypes)
	if err != nil {
		return nil, err
	}
	if in.Description != nil && (utf8.RuneCountInString(*in.Description) > maxDescriptionChars) {
		return nil, apperr.Invalid("description", "must be at most 500 characters")
	}
	newSecret, generated := "", false
	switch {
	case in.RotateSecret != nil && *in.RotateSecret:
		newSecret, generated = NewSecret(), true
	case in.Secret != nil && *in.Secret != masked:
		if err := ValidSecret(*in.Secret); err != nil {
			return nil, err
		}
		newSecret = *in.Secret
	}
	now := s.now()
	out := &Upserted{}
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		e := &Endpoint{}
		action := "webhook.updated"
		if in.ID == nil {
			action = "webhook.created"
			if newSecret == "" {
				newSecret, generated = NewSecret(), true
			}
			e = &Endpoint{Enabled: true, StoredSecret: newSecret, CreatedBy: &p.UserID, CreatedAt: now}
		} else if err := tx.NewSelect().Model(e).Where("id = ?", *in.ID).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.NotFound, "webhook endpoint not found")
			}
			return err
		} else if newSecret != "" && newSecret != e.StoredSecret {
			old, until := e.StoredSecret, now.Add(s.overlap)
			e.PreviousSecret, e.PreviousSecretUntil, e.StoredSecret = &old, &until, newSecret
		}
		e.URL, e.EventTypes, e.UpdatedAt = in.URL, types, now
		if in.Description != nil {
			e.Description = *in.Description
		}
		if in.Enabled != nil {
			e.Enabled = *in.Enabled
		}
		var err error
		if in.ID == nil {
			_, err = tx.NewInsert().Model(e).Returning("id").Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(e).WherePK().Exec(ctx)
		}
		if err != nil {
			return err
		}
		out.Endpoint = e
		// The secret stays out of the audit trail; that it changed goes in.
		details := map[string]any{"url": redactURL(e.URL), "eventTypes": e.EventTypes, "enabled": e.Enabled, "secretChanged": newSecret != ""}
		return store.Audit(ctx, tx, &p.UserID, action, "webhook_endpoint", strconv.FormatInt(e.ID, 10), details, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, store.Classify(err)
	}
	if generated {
		out.GeneratedSecret = &newSecret
	}
	return out, nil
}

// redactURL drops a URL's password and query, which may carry a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return masked
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if u.RawQuery != "" {
		u.RawQuery = masked
	}
	return u.String()
}

// List returns every endpoint, oldest first.
func (s *Service) List(ctx context.Context) ([]*Endpoint, error) {
	var es []*Endpoint
	err := s.db.NewSelect().Model(&es).Order("id").Scan(ctx)
	return es, store.Classify(err)
}

// ByIDs loads endpoints in any order.
func (s *Service) ByIDs(ctx context.Context, ids []int64) ([]*Endpoint, error) {
	var es []*Endpoint
	err := s.db.NewSelect().Model(&es).Where("id IN (?)", bun.List(ids)).Scan(ctx)
	return es, store.Classify(err)
}

// Delete removes an endpoint and its delivery log.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id int64) error {
	return store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*Endpoint)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "webhook endpoint not found")
		}
		return store.Audit(ctx, tx, &p.UserID, "webhook.deleted", "webhook_endpoint", strconv.FormatInt(id, 10), nil, auth.ClientIP(ctx))
	})
}
