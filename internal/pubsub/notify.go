// Package pubsub carries alerts, rule-change and session-change signals
// between server instances over PostgreSQL LISTEN/NOTIFY, and fans alerts out
// to each instance's subscribers.
//
// Writers queue a notification inside the transaction that makes the change
// (NotifyAlert, NotifyRulesChanged, NotifyModelChanged, NotifyListChanged; database triggers
// for session changes);
// PostgreSQL delivers it at COMMIT and drops it on rollback. Every instance
// runs one Listener, which feeds its Hub.
package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// The notification channels.
const (
	AlertsChannel = "riskgraph_alerts"
	RulesChannel  = "riskgraph_rules"
	ModelsChannel = "riskgraph_models"
	ListsChannel  = "riskgraph_lists"
	// OutboxChannel is notified by the outbox triggers (migration
	// 20261207011000_outbox) when they write events.
	OutboxChannel = "riskgraph_outbox"
)

// maxPayload is PostgreSQL's limit on a notification payload; payloads must be shorter.
const maxPayload = 8000

const ellipsis = "…"

// NotifyAlert queues a notification carrying a (as JSON) in db's transaction;
// PostgreSQL delivers it only at COMMIT, so subscribers never hear of
// uncommitted alerts. Call it with the inserted alert (its ID set). A Title or
// Message too long for a notification is truncated in the payload.
func NotifyAlert(ctx context.Context, db bun.IDB, a *domain.Alert) error {
	if a == nil || a.ID == 0 {
		return errors.New("pubsub: notify alert: alert has no id (insert it first)")
	}
	payload, err := alertPayload(a)
	if err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify alert %d: %w", a.ID, err))
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", AlertsChannel, payload); err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify alert %d: %w", a.ID, err))
	}
	return nil
}

// NotifyAlerts is NotifyAlert for several alerts in one statement (a group
// commit's); their notifications are delivered in the order given.
func NotifyAlerts(ctx context.Context, db bun.IDB, alerts []*domain.Alert) error {
	if len(alerts) == 1 {
		return NotifyAlert(ctx, db, alerts[0])
	}
	payloads := make([]string, len(alerts))
	for i, a := range alerts {
		if a == nil || a.ID == 0 {
			return errors.New("pubsub: notify alerts: an alert has no id (insert it first)")
		}
		p, err := alertPayload(a)
		if err != nil {
			return store.Classify(fmt.Errorf("pubsub: notify alert %d: %w", a.ID, err))
		}
		payloads[i] = p
	}
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, p) FROM unnest(?::text[]) WITH ORDINALITY AS x(p, i) ORDER BY i",
		AlertsChannel, pgdialect.Array(payloads)); err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify %d alerts: %w", len(alerts), err))
	}
	return nil
}

// NotifyRulesChanged signals every instance to reload its rules once db's
// transaction commits.
func NotifyRulesChanged(ctx context.Context, db bun.IDB, ruleID int64) error {
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", RulesChannel, strconv.FormatInt(ruleID, 10)); err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify rule %d changed: %w", ruleID, err))
	}
	return nil
}

// alertPayload is a's JSON, shortening Message, then Title, until it fits in a notification.
func alertPayload(a *domain.Alert) (string, error) {
	b, err := json.Marshal(a)
	if err != nil || len(b) < maxPayload {
		return string(b), err
	}
	short := *a // never change the caller's alert
	for _, field := range []*string{&short.Message, &short.Title} {
		orig := *field
		// Escaping makes a byte of text cost one to six bytes of JSON, so
		// search for the longest cut that fits instead of computing it.
		keep := sort.Search(len(orig)+1, func(n int) bool {
			*field = truncate(orig, n)
			b, err := json.Marshal(&short)
			return err != nil || len(b) >= maxPayload
		}) - 1
		*field = truncate(orig, keep)
		if b, err = json.Marshal(&short); err != nil {
			return "", err
		}
		if len(b) < maxPayload {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("payload of %d bytes exceeds the notification limit", len(b))
}

// truncate cuts s to at most n bytes on a rune boundary and marks the cut;
// n < 1 gives "" and n ≥ len(s) gives s.
func truncate(s string, n int) string {
	switch {
	case n >= len(s):
		return s
	case n < 1:
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}
