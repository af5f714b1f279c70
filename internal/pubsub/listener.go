package pubsub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/domain"
)

const (
	// applicationName marks the listener's connection in pg_stat_activity.
	applicationName = "riskgraph-listener"

	minBackoff     = 100 * time.Millisecond
	maxBackoff     = 2 * time.Second
	connectTimeout = 10 * time.Second
	catchUpPage    = 1000
)

// Listener holds a dedicated connection LISTENing on the channels and feeds
// alerts to a Hub, rule and model changes to Reloads and session changes to
// SessionHooks.
//
// The Listener is the only publisher of notified alerts, on the instance that
// raised them too: publishing such an alert to the Hub directly as well would
// deliver it twice.
type Listener struct {
	dbURL   string
	db      *bun.DB
	hub     *Hub
	reloads Reloads
	log     *slog.Logger
	// sessions is set by WatchSessions; its hooks may be nil.
	sessions SessionHooks

	ready     chan struct{}
	readyOnce sync.Once
	// cur is nil until the first connect sets the starting point; only Run touches it.
	cur *cursor
}

// Reloads are what an instance reloads when another changed it; any may be nil.
type Reloads struct {
	// Rules runs when rules may have changed (RulesChannel).
	Rules func(ctx context.Context)
	// Model runs when the active model may have changed (ModelsChannel).
	Model func(ctx context.Context)
	// Lists runs when the list listID changed (ListsChannel), and with
	// listID 0 for every list after a (re)connect.
	Lists func(ctx context.Context, listID int64)
	// Outbox runs when outbox events may be waiting (OutboxChannel, and after
	// every connect); it must not block.
	Outbox func()
}

// NewListener returns a listener that connects to dbURL, publishes alerts to
// hub and runs reloads when rules or the model may have changed. db serves
// the catch-up queries after a reconnect; log may be nil.
func NewListener(dbURL string, db *bun.DB, hub *Hub, reloads Reloads, log *slog.Logger) *Listener {
	for _, fn := range []*func(context.Context){&reloads.Rules, &reloads.Model} {
		if *fn == nil {
			*fn = func(context.Context) {}
		}
	}
	if reloads.Lists == nil {
		reloads.Lists = func(context.Context, int64) {}
	}
	if reloads.Outbox == nil {
		reloads.Outbox = func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Listener{dbURL: dbURL, db: db, hub: hub, reloads: reloads, log: log, ready: make(chan struct{})}
}

// Ready is closed once the first LISTEN is in place and caught up: every alert
// committed from then on reaches the hub.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx ends, then closes its connection and returns nil. A
// lost connection is re-established with capped exponential backoff; after
// every connect it catches up on alerts whose notifications it may have
// missed and runs both reloads and SessionHooks.Resync, since rule, model
// and session changes may have been missed too. It
// returns an error only for a database URL it cannot parse. Call Run once at
// a time; reloads run on its goroutine, so notifications wait while they do.
func (l *Listener) Run(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(l.dbURL)
	if err != nil {
		return fmt.Errorf("pubsub: parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = applicationName
	delay := minBackoff
	for {
		live, err := l.session(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		if live {
			delay = minBackoff
		}
		l.log.Warn("pubsub: listener not connected, retrying", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, maxBackoff)
	}
}

// session runs one connection: connect, LISTEN, catch up, then relay
// notifications until the connection fails or ctx ends. live reports whether
// it got as far as relaying.
func (l *Listener) session(ctx context.Context, cfg *pgx.ConnConfig) (live bool, err error) {
	connectCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		// ctx may be done already; still say goodbye to the server, briefly.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()

	if l.cur == nil {
		// Start from now instead of replaying history. Taken before LISTEN so
		// that an alert committed in between is found by the catch-up below.
		var last int64
		if err := l.db.NewSelect().Model((*domain.Alert)(nil)).ColumnExpr("coalesce(max(id), 0)").Scan(ctx, &last); err != nil {
			return false, fmt.Errorf("read starting alert id: %w", err)
		}
		l.cur = newCursor(last)
	}
	var listen strings.Builder
	for _, channel := range []string{AlertsChannel, RulesChannel, ModelsChannel, ListsChannel, SessionsChannel, OutboxChannel} {
		listen.WriteString("LISTEN " + pgx.Identifier{channel}.Sanitize() + "; ")
	}
	if _, err := conn.Exec(ctx, listen.String()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Notifications sent while nothing listened are lost: check the live
	// sessions again in case one ended (first, so that no alert caught up
	// below reaches a connection revoked meanwhile), read the alerts from the
	// table, and reload rules and the model in case one changed.
	if l.sessions.Resync != nil {
		l.sessions.Resync(ctx)
	}
	if err := l.catchUp(ctx); err != nil {
		return false, fmt.Errorf("catch up: %w", err)
	}
	l.reloads.Rules(ctx)
	l.reloads.Model(ctx)
	l.reloads.Lists(ctx, 0)
	l.reloads.Outbox()
	l.readyOnce.Do(func() { close(l.ready) })

	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		l.handle(ctx, n)
	}
}

// catchUpPatience is how long a subscriber may take to make room for backlog.
const catchUpPatience = 2 * time.Second

// catchUp publishes, in id order, the committed alerts the cursor has not admitted.
func (l *Listener) catchUp(ctx context.Context) error {
	for {
		var alerts []domain.Alert
		q := l.db.NewSelect().Model(&alerts).Where("id > ?", l.cur.last)
		if gaps := l.cur.missing(); len(gaps) > 0 {
			q = q.WhereOr("id IN (?)", bun.List(gaps))
		}
		if err := q.Order("id").Limit(catchUpPage).Scan(ctx); err != nil {
			return err
		}
		for i := range alerts {
			if l.cur.admit(alerts[i].ID) {
				l.hub.PublishPatiently(&alerts[i], catchUpPatience)
			}
		}
		if len(alerts) < catchUpPage {
			return nil
		}
	}
}

func (l *Listener) handle(ctx context.Context, n *pgconn.Notification) {
	switch n.Channel {
	case AlertsChannel:
		a := new(domain.Alert)
		if err := json.Unmarshal([]byte(n.Payload), a); err != nil {
			l.log.Error("pubsub: undecodable alert notification", "err", err)
			return
		}
		l.publish(a)
	case RulesChannel:
		l.reloads.Rules(ctx)
	case ModelsChannel:
		l.reloads.Model(ctx)
	case ListsChannel:
		id, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil || id <= 0 {
			l.log.Error("pubsub: undecodable list notification", "payload", n.Payload)
			return
		}
		l.reloads.Lists(ctx, id)
	case OutboxChannel:
		l.reloads.Outbox()
	case SessionsChannel:
		var c SessionChange
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil {
			l.log.Error("pubsub: undecodable session notification", "err", err)
			return
		}
		if l.sessions.Changed != nil {
			l.sessions.Changed(c)
		}
	}
}

// publish sends a to the hub unless it was published already.
func (l *Listener) publish(a *domain.Alert) {
	if l.cur.admit(a.ID) {
		l.hub.Publish(a)
	}
}
