package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/ingest"
	"github.com/smartfinance/riskgraph/internal/natspub"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/store"
	"github.com/smartfinance/riskgraph/internal/submit"
	"github.com/smartfinance/riskgraph/internal/tracing"
)

// defaultGCPercent is GOGC when the environment doesn't set it: the server
// allocates about 70 KB per submission and keeps a small live heap, so Go's
// 100 runs the collector often for little memory.
const defaultGCPercent = 200

// config is everything the server reads from its environment; nothing else reads env.
type config struct {
	DatabaseURL     string
	Addr            string
	Env             string
	JWTSecret       []byte
	Demo            bool
	DemoPassword    string
	AdminUsername   string
	AdminPassword   string
	Playground      bool
	Introspection   bool
	AllowedOrigins  []string
	Pool            store.PoolConfig
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long SIGTERM keeps serving, not ready and closing
	// keep-alive connections, before the listener closes.
	ShutdownDelay time.Duration
	LogLevel      slog.Level
	LogJSON       bool
	Scoring       engine.Config
	// RulePacks names the rule packs seeded on first start (engine.RulePacks).
	RulePacks []string
	// MetricsAddr serves /metrics on its own listener; empty serves it on ADDR.
	MetricsAddr string
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// PprofAddr serves net/http/pprof on its own listener when set (never on ADDR).
	PprofAddr string
	// GCPercent is the collector's heap growth target set at start: 200 when
	// GOGC is unset (measured against 100, 400 and GOGC=off with GOMEMLIMIT:
	// most of the collector's CPU saved for a little more memory; README,
	// Performance), 0 when GOGC is set, which Go's runtime has applied itself.
	GCPercent int
	Limits    limits
	// ReviewDeadline settles transactions held for review too long; off when its Timeout is 0.
	ReviewDeadline cases.ReviewDeadline
	// Group sizes the group commits that write concurrent submissions for
	// different users in one database transaction (submit.GroupConfig).
	Group submit.GroupConfig
	// Outbox delivers events to webhooks and NATS JetStream (README, Integrations).
	Outbox outboxConfig
	// Now is the clock; tests replace it, the server uses time.Now.
	Now func() time.Time

	// NATSURL is the NATS server (with JetStream) integrations use; empty turns them off.
	NATSURL string
	// Ingest takes transactions from a JetStream stream; off unless Ingest.User is set.
	Ingest ingest.Config
	// Tracing exports OpenTelemetry spans when an OTLP endpoint is set.
	Tracing tracing.Config
}

// outboxConfig configures the outbox dispatcher, webhooks and the NATS publisher.
type outboxConfig struct {
	// Decisions selects the decision.made events written (every instance should agree: the last to start wins).
	Decisions    outbox.Decisions
	Workers      int
	PollInterval time.Duration
	MaxAttempts  int
	RetryBase    time.Duration
	RetryMax     time.Duration
	Retention    time.Duration
	// WebhookTimeout bounds one webhook attempt; SecretOverlap is how long a rotated-out secret keeps signing.
	WebhookTimeout time.Duration
	SecretOverlap  time.Duration
	// NATS publishes to JetStream when its URL is set.
	NATS natspub.Config
}

func defaultOutbox() outboxConfig {
	return outboxConfig{Decisions: outbox.DecisionsAll, Workers: 4, PollInterval: 250 * time.Millisecond, MaxAttempts: 10,
		RetryBase: 5 * time.Second, RetryMax: time.Hour, Retention: 7 * 24 * time.Hour,
		WebhookTimeout: 10 * time.Second, SecretOverlap: 24 * time.Hour,
		NATS: natspub.Config{Stream: "RISKGRAPH_EVENTS", Prefix: "riskgraph", Timeout: 5 * time.Second}}
}

func (c config) production() bool { return c.Env == "production" }

// limits are the abuse defences; docs/SECURITY.md lists each with its test.
type limits struct {
	MaxBodyBytes       int64
	ParserTokens       int
	MaxDepth           int
	MaxAliases         int
	MaxSelections      int
	MaxStringBytes     int
	Complexity         int
	OperationTimeout   time.Duration
	WSMaxSubscriptions int
	WSMaxUserSubs      int
	WSMaxPerAddress    int
	SessionCacheTTL    time.Duration
	LoginFreeFailures  int
	MaxFailedLogins    int
	LockoutDuration    time.Duration
	HashConcurrency    int
	LoginsPerMinute    int
	RegistersPerMinute int
	// MaxBulkSubmissions caps the inputs of one submitTransactions call.
	MaxBulkSubmissions int
}

func defaultLimits() limits {
	return limits{
		MaxBodyBytes: 64 << 10, ParserTokens: 2000, MaxDepth: 10, MaxAliases: 20, MaxSelections: 2000, MaxStringBytes: 8192, Complexity: 5000,
		OperationTimeout: 10 * time.Second, WSMaxSubscriptions: 20, WSMaxUserSubs: 50, WSMaxPerAddress: 32, SessionCacheTTL: time.Second,
		LoginFreeFailures: 5, MaxFailedLogins: 10, LockoutDuration: 30 * time.Minute, LoginsPerMinute: 20, RegistersPerMinute: 5,
		HashConcurrency: runtime.GOMAXPROCS(0), MaxBulkSubmissions: 500,
	}
}

// defaultGroup is group commit's default for a pool of poolSize: a
// submission arriving while no group is in flight goes at once; others
// collect for at most 1 ms or until 64, with groups in flight on at most half
// the pool, so the other statements still find connections.
func defaultGroup(poolSize int) submit.GroupConfig {
	return submit.GroupConfig{MaxSize: 64, MaxWait: time.Millisecond, MaxInFlight: max(2, poolSize/2)}
}

// loadConfig reads and validates the environment; warnings are for the caller to log.
func loadConfig(getenv func(string) string) (cfg config, warnings []string, err error) {
	var errs []error
	str := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	boolean := func(key string, def bool) bool {
		v := str(key, "")
		if v == "" {
			return def
		}
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true/false or 1/0", key, v))
		}
		return b
	}
	integer := func(key string, def, lo, hi int) int {
		v := str(key, "")
		if v == "" {
			return def
		}
		n, perr := strconv.Atoi(v)
		if perr != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want an integer from %d to %d", key, v, lo, hi))
		}
		return n
	}
	duration := func(key string, def time.Duration) time.Duration {
		v := str(key, "")
		if v == "" {
			return def
		}
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 15s", key, v))
		}
		return d
	}

	cfg.Env = str("APP_ENV", "development")
	if cfg.Env != "development" && cfg.Env != "production" {
		errs = append(errs, fmt.Errorf("APP_ENV=%q: want development or production", cfg.Env))
	}
	cfg.DatabaseURL = str("DATABASE_URL", "")
	if cfg.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required (make run finds or starts a database for you)"))
	}
	cfg.Addr = str("ADDR", ":8080")
	switch secret := getenv("JWT_SECRET"); {
	case secret != "" && len(secret) < 32:
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 bytes"))
	case secret != "":
		cfg.JWTSecret = []byte(secret)
	case cfg.production():
		errs = append(errs, errors.New("JWT_SECRET is required when APP_ENV=production"))
	default:
		cfg.JWTSecret = make([]byte, 32)
		rand.Read(cfg.JWTSecret) //nolint:errcheck // crypto/rand never fails on Linux
		warnings = append(warnings, "JWT_SECRET not set: using a random secret, so tokens die with this process and are not shared between instances")
	}
	cfg.Demo = boolean("DEMO", false)
	if cfg.Demo && cfg.production() {
		errs = append(errs, errors.New("DEMO=1 is refused when APP_ENV=production: demo accounts have known passwords"))
	}
	cfg.DemoPassword = getenv("DEMO_PASSWORD")
	if cfg.DemoPassword != "" {
		if perr := auth.ValidateNewPassword(cfg.DemoPassword); perr != nil {
			errs = append(errs, fmt.Errorf("DEMO_PASSWORD %w", perr))
		}
	}
	cfg.AdminUsername = str("ADMIN_USERNAME", "")
	cfg.AdminPassword = getenv("ADMIN_PASSWORD")
	if (cfg.AdminUsername == "") != (cfg.AdminPassword == "") {
		errs = append(errs, errors.New("ADMIN_USERNAME and ADMIN_PASSWORD must be set together"))
	}
	cfg.Playground = boolean("PLAYGROUND", !cfg.production())
	cfg.Introspection = boolean("INTROSPECTION", !cfg.production())
	if origins := str("ALLOWED_ORIGINS", ""); origins != "" {
		for _, o := range strings.Split(origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
			}
		}
	}
	packs, perr := rulePacks(str("RULE_PACKS", "seed,default"))
	if perr != nil {
		errs = append(errs, perr)
	}
	cfg.RulePacks = packs
	defaultConns := max(8, 4*runtime.GOMAXPROCS(0))
	cfg.Pool.MaxOpen = integer("DB_MAX_CONNS", defaultConns, 1, 1000)
	cfg.Pool.MaxIdle = cfg.Pool.MaxOpen
	cfg.Pool.MaxLifetime = duration("DB_CONN_MAX_LIFETIME", 30*time.Minute)
	cfg.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 20*time.Second)
	cfg.ShutdownDelay = duration("SHUTDOWN_DELAY", time.Second)
	cfg.PprofAddr = str("PPROF_ADDR", "")
	if getenv("GOGC") == "" {
		cfg.GCPercent = defaultGCPercent
	}
	cfg.MetricsAddr = str("METRICS_ADDR", map[bool]string{true: "127.0.0.1:9090"}[cfg.production()])
	for p := range strings.SplitSeq(str("TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, perr := netip.ParsePrefix(p)
		if !strings.Contains(p, "/") {
			var addr netip.Addr
			addr, perr = netip.ParseAddr(p)
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		if perr != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not an address or CIDR range", p))
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix)
	}
	l := defaultLimits()
	l.MaxBodyBytes = int64(integer("MAX_BODY_BYTES", int(l.MaxBodyBytes), 1024, 16<<20))
	l.ParserTokens = integer("PARSER_TOKEN_LIMIT", l.ParserTokens, 100, 1_000_000)
	l.MaxDepth = integer("MAX_DEPTH", l.MaxDepth, 2, 100)
	l.MaxAliases = integer("MAX_ALIASES", l.MaxAliases, 0, 1000)
	l.MaxSelections = integer("MAX_SELECTIONS", l.MaxSelections, 10, 1_000_000)
	l.MaxStringBytes = integer("MAX_STRING_BYTES", l.MaxStringBytes, 256, 16<<20)
	l.Complexity = integer("COMPLEXITY_LIMIT", l.Complexity, 10, 10_000_000)
	l.OperationTimeout = duration("OPERATION_TIMEOUT", l.OperationTimeout)
	l.WSMaxSubscriptions = integer("WS_MAX_SUBSCRIPTIONS", l.WSMaxSubscriptions, 1, 1000)
	l.WSMaxUserSubs = integer("WS_MAX_SUBSCRIPTIONS_PER_USER", l.WSMaxUserSubs, 1, 100_000)
	l.WSMaxPerAddress = integer("WS_MAX_PER_ADDRESS", l.WSMaxPerAddress, 1, 100_000)
	if v := str("SESSION_CACHE_TTL", ""); v != "" {
		d, perr := time.ParseDuration(v)
		if perr != nil || d < 0 || d > time.Second {
			errs = append(errs, fmt.Errorf("SESSION_CACHE_TTL=%q: want a duration from 0 (off) to 1s, the staleness bound", v))
		}
		l.SessionCacheTTL = d
	}
	l.LoginFreeFailures = integer("LOGIN_FREE_FAILURES", l.LoginFreeFailures, 1, 1000)
	l.MaxFailedLogins = integer("LOGIN_MAX_FAILURES", l.MaxFailedLogins, 1, 100_000)
	l.LockoutDuration = duration("LOCKOUT_DURATION", l.LockoutDuration)
	l.HashConcurrency = integer("PASSWORD_HASH_CONCURRENCY", l.HashConcurrency, 1, 1024)
	l.LoginsPerMinute = integer("LOGIN_RATE_PER_MINUTE", l.LoginsPerMinute, 0, 1_000_000)
	l.RegistersPerMinute = integer("REGISTER_RATE_PER_MINUTE", l.RegistersPerMinute, 0, 1_000_000)
	l.MaxBulkSubmissions = integer("MAX_BULK_SUBMISSIONS", l.MaxBulkSubmissions, 1, 10_000)
	cfg.Limits = l
	g := defaultGroup(cfg.Pool.MaxOpen)
	cfg.Group.MaxSize = integer("GROUP_COMMIT_MAX_SIZE", g.MaxSize, 1, 1000)
	cfg.Group.MaxWait = duration("GROUP_COMMIT_MAX_WAIT", g.MaxWait)
	cfg.Group.MaxInFlight = integer("GROUP_COMMIT_MAX_IN_FLIGHT", g.MaxInFlight, 1, 1000)
	cfg.Scoring = engine.DefaultConfig()
	for _, knob := range []struct {
		key string
		dst *float64
	}{
		{"RULE_WEIGHT", &cfg.Scoring.RuleWeight}, {"MODEL_WEIGHT", &cfg.Scoring.ModelWeight},
		{"REVIEW_AT", &cfg.Scoring.ReviewAt}, {"REJECT_AT", &cfg.Scoring.RejectAt},
		{"MEDIUM_AT", &cfg.Scoring.MediumAt}, {"HIGH_AT", &cfg.Scoring.HighAt},
		{"SMALL_AMOUNT", &cfg.Scoring.SmallAmount}, {"NEAR_LINE", &cfg.Scoring.NearLine},
	} {
		if v := str(knob.key, ""); v != "" {
			f, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want a number", knob.key, v))
			}
			*knob.dst = f
		}
	}
	if err := cfg.Scoring.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("scoring thresholds: %w", err))
	}
	cfg.ReviewDeadline.Timeout = duration("REVIEW_TIMEOUT", 0)
	if t := cfg.ReviewDeadline.Timeout; t > 0 && t < time.Minute {
		errs = append(errs, fmt.Errorf("REVIEW_TIMEOUT=%s: want at least 1m (or unset: no deadline)", t))
	}
	switch action := domain.ReviewDecision(strings.ToUpper(str("REVIEW_TIMEOUT_ACTION", string(domain.ReviewDecline)))); action {
	case domain.ReviewApprove, domain.ReviewDecline:
		cfg.ReviewDeadline.Action = action
	default:
		errs = append(errs, fmt.Errorf("REVIEW_TIMEOUT_ACTION=%q: want APPROVE or DECLINE", action))
	}
	cfg.Outbox = loadOutbox(str, integer, duration, &errs)
	cfg.Now = time.Now
	errs = append(errs, integrationsConfig(&cfg, str, integer, duration)...)
	cfg.Outbox.NATS.URL = cfg.NATSURL
	if err := cfg.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error"))
	}
	cfg.LogJSON = str("LOG_FORMAT", map[bool]string{true: "json", false: "text"}[cfg.production()]) == "json"
	return cfg, warnings, errors.Join(errs...)
}

// integrationsConfig reads NATS_URL, INGEST_* and OTEL_EXPORTER_OTLP_ENDPOINT.
func integrationsConfig(cfg *config, str func(key, def string) string, integer func(key string, def, lo, hi int) int,
	duration func(key string, def time.Duration) time.Duration,
) (errs []error) {
	cfg.NATSURL = str("NATS_URL", "")
	cfg.Ingest = ingest.Config{
		Stream: str("INGEST_STREAM", ingest.DefaultStream), Subject: str("INGEST_SUBJECT", ingest.DefaultSubject),
		DeadSubject: str("INGEST_DEAD_SUBJECT", ingest.DefaultDeadSubject), User: str("INGEST_USER", ""),
		Concurrency: integer("INGEST_CONCURRENCY", 16, 1, 1024), RetryDelay: duration("INGEST_RETRY_DELAY", 5*time.Second),
	}
	if cfg.Ingest.User != "" && cfg.NATSURL == "" {
		errs = append(errs, errors.New("INGEST_USER needs NATS_URL: transactions are ingested from NATS JetStream"))
	}
	if err := cfg.Ingest.Validate(); err != nil {
		errs = append(errs, err)
	}
	cfg.Tracing.Endpoint = str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	if e := cfg.Tracing.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT=%q: want the collector's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318", e))
		}
	}
	return errs
}

// loadOutbox reads the outbox, webhook and NATS knobs.
func loadOutbox(str func(string, string) string, integer func(string, int, int, int) int,
	duration func(string, time.Duration) time.Duration, errs *[]error) outboxConfig {
	o := defaultOutbox()
	switch d := outbox.Decisions(strings.ToUpper(str("OUTBOX_DECISIONS", string(o.Decisions)))); d {
	case outbox.DecisionsAll, outbox.DecisionsReviewReject:
		o.Decisions = d
	default:
		*errs = append(*errs, fmt.Errorf("OUTBOX_DECISIONS=%q: want ALL or REVIEW_REJECT", d))
	}
	o.Workers = integer("OUTBOX_WORKERS", o.Workers, 1, 256)
	o.PollInterval = duration("OUTBOX_POLL_INTERVAL", o.PollInterval)
	o.MaxAttempts = integer("OUTBOX_MAX_ATTEMPTS", o.MaxAttempts, 1, 100)
	o.RetryBase = duration("OUTBOX_RETRY_BASE", o.RetryBase)
	o.RetryMax = duration("OUTBOX_RETRY_MAX", o.RetryMax)
	if o.RetryMax < o.RetryBase {
		*errs = append(*errs, fmt.Errorf("OUTBOX_RETRY_MAX=%s: want at least OUTBOX_RETRY_BASE (%s)", o.RetryMax, o.RetryBase))
	}
	o.Retention = duration("OUTBOX_RETENTION", o.Retention)
	o.WebhookTimeout = duration("WEBHOOK_TIMEOUT", o.WebhookTimeout)
	o.SecretOverlap = duration("WEBHOOK_SECRET_OVERLAP", o.SecretOverlap)
	o.NATS.Stream = str("NATS_EVENT_STREAM", o.NATS.Stream)
	o.NATS.Prefix = str("NATS_EVENT_PREFIX", o.NATS.Prefix)
	if strings.ContainsAny(o.NATS.Prefix, " *>") || strings.HasSuffix(o.NATS.Prefix, ".") {
		*errs = append(*errs, fmt.Errorf("NATS_EVENT_PREFIX=%q: want a subject prefix such as riskgraph (no wildcards, spaces or trailing dot)", o.NATS.Prefix))
	}
	return o
}

func indentErrors(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// rulePacks parses RULE_PACKS: pack names separated by commas, or "none".
func rulePacks(v string) ([]string, error) {
	if strings.TrimSpace(v) == "none" {
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		if !slices.ContainsFunc(engine.RulePacks(), func(p engine.RulePack) bool { return p.Name == name }) {
			return nil, fmt.Errorf("RULE_PACKS: unknown pack %q (want seed, default, both separated by a comma, or none)", name)
		}
		names = append(names, name)
	}
	return names, nil
}
