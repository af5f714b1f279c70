package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

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
	Limits    limits
	// ReviewDeadline settles transactions held for review too long; off when its Timeout is 0.
	ReviewDeadline cases.ReviewDeadline
	// Now is the clock; tests replace it, the server uses time.Now.
	Now func() time.Time
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
}

func defaultLimits() limits {
	return limits{
		MaxBodyBytes: 64 << 10, ParserTokens: 2000, MaxDepth: 10, MaxAliases: 20, MaxSelections: 2000, MaxStringBytes: 8192, Complexity: 5000,
		OperationTimeout: 10 * time.Second, WSMaxSubscriptions: 20, WSMaxUserSubs: 50, WSMaxPerAddress: 32, SessionCacheTTL: time.Second,
		LoginFreeFailures: 5, MaxFailedLogins: 10, LockoutDuration: 30 * time.Minute, LoginsPerMinute: 20, RegistersPerMinute: 5,
		HashConcurrency: runtime.GOMAXPROCS(0),
	}
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
	cfg.Limits = l
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
	cfg.Now = time.Now
	if err := cfg.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error"))
	}
	cfg.LogJSON = str("LOG_FORMAT", map[bool]string{true: "json", false: "text"}[cfg.production()]) == "json"
	return cfg, warnings, errors.Join(errs...)
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
