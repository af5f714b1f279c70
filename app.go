package main

import (
	"context"
	"errors"
	"fmt"
	listbook "github.com/smartfinance/riskgraph/internal/lists"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/analysis"
	"github.com/smartfinance/riskgraph/internal/anomaly"
	"github.com/smartfinance/riskgraph/internal/apikey"
	"github.com/smartfinance/riskgraph/internal/audit"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/backtest"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/console"
	"github.com/smartfinance/riskgraph/internal/datasource"
	"github.com/smartfinance/riskgraph/internal/demo"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
	"github.com/smartfinance/riskgraph/internal/gqlguard"
	"github.com/smartfinance/riskgraph/internal/gqlhttp"
	"github.com/smartfinance/riskgraph/internal/ingest"
	"github.com/smartfinance/riskgraph/internal/monitor"
	"github.com/smartfinance/riskgraph/internal/natspub"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/ratelimit"
	"github.com/smartfinance/riskgraph/internal/requestid"
	"github.com/smartfinance/riskgraph/internal/rules"
	"github.com/smartfinance/riskgraph/internal/submit"
	"github.com/smartfinance/riskgraph/internal/tracing"
	"github.com/smartfinance/riskgraph/internal/webhook"
	"github.com/smartfinance/riskgraph/resolvers"
	"github.com/smartfinance/riskgraph/web"
)

// version is the build's version, set with -ldflags "-X main.version=…".
var version = "dev"

// Websocket and cache settings; the configurable limits are in config.Limits.
const (
	wsInitTimeout     = 3 * time.Second
	wsKeepAlive       = 15 * time.Second
	wsPingPong        = 20 * time.Second
	queryCacheEntries = 1000
	apqCacheEntries   = 1000
)

// app is one server instance: its services, background work and HTTP handler.
type app struct {
	db       *bun.DB
	log      *slog.Logger
	accounts *account.Service
	keys     *apikey.Service
	rules    *rules.Service
	lists    *listbook.Service
	models   *fraudmodel.Registry
	anomaly  *anomaly.Registry
	hub      *pubsub.Hub
	metrics  *monitor.Metrics
	limits   limits
	sources  *datasource.Service
	submit   *submit.Service
	cases    *cases.Service
	now      func() time.Time
	listener *pubsub.Listener

	// The outbox: its dispatcher, endpoint and delivery-log services, and the
	// NATS publisher (nil without NATS_URL).
	dispatcher *outbox.Dispatcher
	webhooks   *webhook.Service
	deliveries *outbox.Service
	natsPub    *natspub.Publisher

	registry *prometheus.Registry
	handler  http.Handler

	// wsCtx ends every websocket on shutdown; plain requests drain instead.
	wsCtx    context.Context
	wsCancel context.CancelFunc
	// background runs the listener and the rule-hit flusher until Close.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	closeOne       sync.Once

	draining atomic.Bool

	trustedProxies []netip.Prefix

	subsMu   sync.Mutex
	userSubs map[int64]int // live subscriptions per user on this instance

	// tokens and ws let websocketInit bind a connection to its session.
	tokens *auth.Tokens
	ws     *websockets

	// tracer traces requests (a no-op provider unless tracing is configured).
	tracer *tracing.Provider
	// ingest consumes transactions from JetStream when INGEST_USER is set;
	// stopIngest ends it and ingestDone waits for its messages in flight.
	ingest     *ingest.Consumer
	nats       *nats.Conn
	stopIngest context.CancelFunc
	ingestDone sync.WaitGroup
}

// ruleHitFlushInterval bounds how stale stored hit counts may be on other instances.
const ruleHitFlushInterval = 2 * time.Second

// apiKeyUseFlushInterval is how often queued API key uses (at most one per key
// per apikey.LastUseEvery) are written; with none queued it costs nothing.
const apiKeyUseFlushInterval = time.Second

func newApp(ctx context.Context, cfg config, db *bun.DB, log *slog.Logger) (*app, error) {
	tracer, err := tracing.New(ctx, cfg.Tracing, version)
	if err != nil {
		return nil, err
	}
	log = slog.New(tracing.LogHandler(requestid.LogHandler(log.Handler())))
	tokens, err := auth.NewTokens(cfg.JWTSecret, cfg.Now)
	if err != nil {
		return nil, err
	}
	accounts, err := account.New(db, tokens, cfg.Now, log, account.Policy{
		FreeFailures:     cfg.Limits.LoginFreeFailures,
		MaxBackoff:       cfg.Limits.LockoutDuration,
		SlowAfter:        cfg.Limits.MaxFailedLogins,
		HashConcurrency:  cfg.Limits.HashConcurrency,
		SessionCacheTTL:  cfg.Limits.SessionCacheTTL,
		LoginThrottle:    ratelimit.New(cfg.Limits.LoginsPerMinute, time.Minute, cfg.Now),
		RegisterThrottle: ratelimit.New(cfg.Limits.RegistersPerMinute, time.Minute, cfg.Now),
	})
	if err != nil {
		return nil, err
	}
	a := &app{db: db, log: log, accounts: accounts, registry: prometheus.NewRegistry(), hub: pubsub.NewHub(),
		limits: cfg.Limits, userSubs: map[int64]int{}, tokens: tokens, ws: newWebsockets(), now: cfg.Now,
		trustedProxies: cfg.TrustedProxies, tracer: tracer}
	a.keys = apikey.New(db, cfg.Now, log, cfg.Limits.SessionCacheTTL)
	a.wsCtx, a.wsCancel = context.WithCancel(context.WithoutCancel(ctx))
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	a.models = fraudmodel.NewRegistry(db)
	if err := a.models.Reload(ctx); err != nil {
		log.Error("load the active model; scoring with rules only", "err", err)
	}
	a.anomaly = anomaly.NewRegistry(db)
	if err := a.anomaly.Reload(ctx); err != nil {
		log.Error("load the active anomaly model; anomalyScore is 0", "err", err)
	}
	a.rules = rules.New(db, cfg.Now, log, pubsub.NotifyRulesChanged)
	if err := a.rules.SeedRulePacks(ctx, cfg.RulePacks); err != nil {
		return nil, err
	}
	if err := a.rules.Reload(ctx); err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	a.lists = listbook.New(db, cfg.Now, log, pubsub.NotifyListChanged)
	if err := a.lists.Reload(ctx, 0); err != nil {
		return nil, fmt.Errorf("load lists: %w", err)
	}
	a.cases = cases.New(db, cfg.Now)
	if err := a.startOutbox(ctx, cfg); err != nil {
		return nil, err
	}
	if err := a.startBackground(ctx, cfg); err != nil {
		a.closeNATS()
		return nil, err
	}
	a.metrics = monitor.NewMetrics(a.registry, a.hub.Subscribers)
	a.sources = datasource.New(db, cfg.Now)
	accounts.UseLoginRisk(account.LoginRisk{Rules: a.rules, Config: cfg.Scoring, Notify: pubsub.NotifyAlert, Lists: a.lists})
	a.submit = submit.New(submit.Options{DB: db, Rules: a.rules, Lists: a.lists, Config: cfg.Scoring, Notify: pubsub.NotifyAlerts,
		Models: a.models, Anomaly: a.anomaly, Observer: a.metrics, Now: cfg.Now, Log: log, Group: cfg.Group,
		MaxBulk: cfg.Limits.MaxBulkSubmissions})
	if err := a.startIngest(ctx, cfg); err != nil {
		return nil, err
	}
	res := &resolvers.Resolver{
		Accounts: accounts,
		Keychain: a.keys,
		Audit:    audit.NewReader(db),
		Submit:   a.submit,
		Cases:    a.cases,
		Rulebook: a.rules,
		Listbook: a.lists,
		AlertHub: a.hub,
		Analysis: analysis.New(db, cfg.Now),
		Dashboard: monitor.New(db, cfg.Now, a.metrics, monitor.StatusInfo{
			Version: version, StartedAt: cfg.Now(), Subscribers: a.hub.Subscribers,
			RulesLoaded: func() int { return len(a.rules.Current().Rules()) + len(a.rules.CurrentLogin().Rules()) },
		}),
		Sources:  a.sources,
		Backtest: backtest.New(db, cfg.Scoring),
		Training: fraudmodel.NewService(db, a.models, cfg.Now),
		Anomaly:  anomaly.NewService(db, a.anomaly, cfg.Now),
		Log:      log,
		Now:      cfg.Now,

		Webhooks:   a.webhooks,
		Deliveries: a.deliveries,
	}
	gql := a.graphQLServer(cfg, res)

	mux := http.NewServeMux()
	mux.Handle("/graphql", gqlhttp.CORS(cfg.AllowedOrigins, a.withClient(gqlguard.Body(cfg.Limits.MaxBodyBytes, gql))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }) //nolint:errcheck
	mux.HandleFunc("GET /readyz", a.ready)
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", a.MetricsHandler())
	} else {
		mux.Handle("/metrics", http.NotFoundHandler()) // not the console's fallback page either
	}
	bundle := web.Dist()
	if cfg.Playground {
		mux.Handle("GET /playground", console.Playground(bundle))
	} else {
		mux.Handle("/playground", http.NotFoundHandler())
	}
	// The console at / in every environment; its own routes fall back to index.html.
	mux.Handle("/", console.Handler(bundle))
	a.handler = a.tracer.Handler(requestid.Middleware(a.logRequests(securityHeaders(mux))))
	return a, nil
}

func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.db.PingContext(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n")) //nolint:errcheck
}

// startDraining makes the instance refuse readiness and close connections after each response.
func (a *app) startDraining() { a.draining.Store(true) }

// Handler is the instance's HTTP handler.
func (a *app) Handler() http.Handler { return a.handler }

// MetricsHandler serves the Prometheus metrics: on the API port only when
// METRICS_ADDR is empty (development), else on that listener alone.
func (a *app) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{})
}

// closeSubscriptions ends every websocket connection.
func (a *app) closeSubscriptions() { a.wsCancel() }

// startBackground runs the LISTEN/NOTIFY listener (alerts, rule, model and
// session changes from every instance), the rule-hit flusher and, when
// configured, the review deadline; it returns once the listener is listening.
func (a *app) startBackground(ctx context.Context, cfg config) error {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBackground = cancel
	a.listener = pubsub.NewListener(cfg.DatabaseURL, a.db, a.hub, pubsub.Reloads{
		Rules: func(ctx context.Context) {
			if err := a.rules.Reload(ctx); err != nil {
				a.log.ErrorContext(ctx, "reload rules", "err", err)
			}
		},
		Model: func(ctx context.Context) {
			if err := a.models.Reload(ctx); err != nil {
				a.log.ErrorContext(ctx, "reload the active model", "err", err)
			}
			// Anomaly model changes ride the same channel.
			if err := a.anomaly.Reload(ctx); err != nil {
				a.log.ErrorContext(ctx, "reload the active anomaly model", "err", err)
			}
		},
		// Off the listener's goroutine: a large list takes a second to load.
		Lists:  a.lists.ReloadSoon,
		Outbox: a.dispatcher.Wake,
	}, a.log)
	// A session change ends this instance's cached state and live websockets
	// alike; after a reconnect both are checked anew.
	a.listener.WatchSessions(pubsub.SessionHooks{
		Changed: func(ch pubsub.SessionChange) {
			a.accounts.SessionChanged(ch.UserID)
			a.keys.Forget(ch.UserID)
			a.ws.sessionChanged(ch)
		},
		Resync: func(ctx context.Context) {
			a.accounts.ForgetSessions()
			a.keys.ForgetAll()
			a.resyncWebsockets(ctx)
		},
	})
	a.background.Add(3)
	go func() {
		defer a.background.Done()
		if err := a.listener.Run(bg); err != nil && bg.Err() == nil {
			a.log.Error("listener stopped", "err", err)
		}
	}()
	go func() {
		defer a.background.Done()
		a.rules.RunFlusher(bg, ruleHitFlushInterval)
	}()
	go func() {
		defer a.background.Done()
		a.keys.RunFlusher(bg, apiKeyUseFlushInterval)
	}()
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		a.dispatcher.Run(bg)
	}()
	if d := cfg.ReviewDeadline; d.Timeout > 0 {
		a.background.Add(1)
		go func() {
			defer a.background.Done()
			a.cases.RunReviewDeadline(bg, d, a.log)
		}()
	}
	select {
	case <-a.listener.Ready():
		return nil
	case <-time.After(10 * time.Second):
		cancel()
		return errors.New("listener did not start: LISTEN on the database failed")
	case <-ctx.Done():
		cancel()
		return ctx.Err()
	}
}

// Close ends subscriptions and background work (flushing rule hits).
func (a *app) Close() {
	a.closeOne.Do(func() {
		if a.stopIngest != nil {
			a.stopIngest()
			a.ingestDone.Wait()
			a.nats.Close()
		}
		a.wsCancel()
		a.hub.Close()
		if a.stopBackground != nil {
			a.stopBackground()
		}
		a.background.Wait()
		a.lists.Wait()
		a.closeNATS()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.tracer.Shutdown(ctx); err != nil {
			a.log.Warn("flush traces", "err", err)
		}
	})
}

// startIngest runs the JetStream consumer when INGEST_USER is set: it
// connects in the background (and keeps reconnecting), so NATS being down
// delays ingestion, never the API.
func (a *app) startIngest(ctx context.Context, cfg config) error {
	if cfg.Ingest.User == "" {
		return nil
	}
	nc, err := nats.Connect(cfg.NATSURL, nats.Name("riskgraph "+version), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("NATS_URL: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("NATS JetStream: %w", err)
	}
	a.nats = nc
	a.ingest = ingest.New(js, a.db, a.submit, cfg.Ingest, a.log, a.tracer)
	for _, c := range []struct {
		name, help string
		count      func(ingest.Stats) uint64
	}{
		{"acked", "committed (or found committed) and acknowledged", func(s ingest.Stats) uint64 { return s.Acked }},
		{"dead_lettered", "sent to the dead-letter subject", func(s ingest.Stats) uint64 { return s.DeadLettered }},
		{"retried", "handed back for redelivery", func(s ingest.Stats) uint64 { return s.Retried }},
	} {
		a.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "riskgraph_ingest_" + c.name + "_total", Help: "Ingested messages " + c.help + " by this instance.",
		}, func() float64 { return float64(c.count(a.ingest.Stats())) }))
	}
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopIngest = stop
	a.ingestDone.Add(1)
	go func() {
		defer a.ingestDone.Done()
		a.ingest.Run(run)
	}()
	return nil
}

// startOutbox configures the outbox triggers for this deployment, connects
// the NATS publisher when NATS_URL is set, and builds the dispatcher that
// startBackground runs.
func (a *app) startOutbox(ctx context.Context, cfg config) error {
	o := cfg.Outbox
	var natsSender outbox.Sender
	if o.NATS.URL != "" {
		p, err := natspub.Connect(ctx, o.NATS)
		if err != nil {
			return err
		}
		a.natsPub, natsSender = p, p
	}
	if err := outbox.Configure(ctx, a.db, o.Decisions, map[bool]string{true: o.NATS.Stream}[a.natsPub != nil]); err != nil {
		a.closeNATS()
		return fmt.Errorf("configure the outbox: %w", err)
	}
	a.dispatcher = outbox.New(outbox.Options{DB: a.db, Webhooks: webhook.NewSender(o.WebhookTimeout), NATS: natsSender,
		Workers: o.Workers, PollInterval: o.PollInterval, MaxAttempts: o.MaxAttempts, RetryBase: o.RetryBase, RetryMax: o.RetryMax,
		Retention: o.Retention, Now: cfg.Now, Log: a.log})
	a.webhooks = webhook.NewService(a.db, cfg.Now, o.SecretOverlap)
	a.deliveries = outbox.NewService(a.db, cfg.Now, a.dispatcher.Wake)
	return nil
}

func (a *app) closeNATS() {
	if a.natsPub != nil {
		a.natsPub.Close()
	}
}

// bootstrap creates the first admin and the demo data, as configured.
func (a *app) bootstrap(ctx context.Context, cfg config) error {
	if cfg.AdminUsername != "" {
		created, err := a.accounts.BootstrapAdmin(ctx, cfg.AdminUsername, cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		if created {
			a.log.Info("created the first admin", "username", cfg.AdminUsername)
		}
	}
	if !cfg.Demo {
		return nil
	}
	a.log.Info("loading demo data: accounts and, on a first start, a week of payments")
	seeded, err := demo.Seed(ctx, a.accounts, cfg.DemoPassword)
	if err != nil {
		return err
	}
	written, err := demo.History(ctx, demo.Services{DB: a.db, Accounts: a.accounts, Submit: a.submit, Cases: a.cases, Sources: a.sources, Now: a.now})
	if err != nil {
		return err
	}
	if written > 0 {
		a.log.Info("demo history written", "transactions", written)
	}
	switch {
	case seeded.StaffPassword != "" && cfg.DemoPassword == "":
		// Printed once, to the terminal only: it is not in any log file.
		fmt.Fprintf(os.Stderr, "\n  demo accounts: alice, bob (password %s); analyst, admin, gateway (password %s)\n\n",
			demo.SeedPassword, seeded.StaffPassword)
	case len(seeded.Created) > 0:
		a.log.Info("demo accounts created", "users", seeded.Created)
	case len(seeded.Reset) > 0:
		a.log.Info("demo staff passwords set from DEMO_PASSWORD", "users", seeded.Reset)
	case cfg.DemoPassword != "":
		a.log.Info("demo accounts ready; staff passwords are DEMO_PASSWORD")
	default:
		a.log.Info("demo accounts already exist; passwords unchanged (lost them? restart with DEMO_PASSWORD set, or run riskgraph reset-password)")
	}
	key, err := demo.GatewayKey(ctx, a.keys, a.db)
	if err != nil {
		return err
	}
	// To the terminal only, like the staff password: never into a log.
	fmt.Fprintf(os.Stderr, "\n  demo API key of gateway (every scope; new at each start): %s\n  e.g. curl -H 'X-Api-Key: %s' ...\n\n", key, key)
	return nil
}
