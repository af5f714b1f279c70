// Command riskgraph is the SmartFinance Risk Graph server: real-time transaction
// risk scoring and case management behind one GraphQL endpoint.
//
// Usage:
//
//	riskgraph                      serve (migrating first)
//	riskgraph migrate              apply migrations and exit
//	riskgraph rollback             undo the last migration group and exit
//	riskgraph train-model [flags]  train a model on the labelled transactions
//	                               (migrating first), print its held-out
//	                               figures and exit; -activate also makes it
//	                               the model every running server scores with
//	                               (flags: -from, -to, -seed, -l2, -activate;
//	                               riskgraph train-model -h lists them)
//	riskgraph reset-password USER  set a user's password, read from stdin
//	                               (no echo at a terminal); ends its sessions,
//	                               clears its failed logins, audited
//	riskgraph alerts [flags]       print alerts from a running server, one
//	                               JSON line each, until Ctrl-C (flags: -url,
//	                               -min-level, -count, -token; the token
//	                               defaults to $RISKGRAPH_TOKEN)
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
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
		OperationTimeout: 10 * time.Second, WSMaxSubscriptions: 20, WSMaxUserSubs: 50, WSMaxPerAddress: 32,
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
		{"SMALL_AMOUNT", &cfg.Scoring.SmallAmount},
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
	cfg.Now = time.Now
	if err := cfg.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error"))
	}
	cfg.LogJSON = str("LOG_FORMAT", map[bool]string{true: "json", false: "text"}[cfg.production()]) == "json"
	return cfg, warnings, errors.Join(errs...)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "riskgraph:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "alerts" {
		// A client of a running server: it needs no configuration or database.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return alertsCommand(ctx, args[1:], os.Getenv("RISKGRAPH_TOKEN"), os.Stdout, os.Stderr)
	}
	cfg, warnings, err := loadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n  %w", indentErrors(err))
	}
	log := newLogger(cfg)
	for _, w := range warnings {
		log.Warn(w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.Pool)
	if err != nil {
		return err
	}
	defer db.Close()

	command := "serve"
	if len(args) > 0 {
		command = args[0]
	}
	switch command {
	case "migrate":
		version, err := dbmigrate.Migrate(ctx, db)
		if err == nil {
			log.Info("migrations applied", "version", version)
		}
		return err
	case "rollback":
		return dbmigrate.Rollback(ctx, db)
	case "train-model":
		return trainModel(ctx, db, args[1:], os.Stdout, os.Stderr)
	case "reset-password":
		return resetPassword(ctx, cfg, db, log, args[1:], os.Stdin, os.Stderr)
	case "serve":
		return serve(ctx, cfg, db, log)
	default:
		return fmt.Errorf("unknown command %q (want migrate, rollback, train-model, reset-password, alerts or nothing)", command)
	}
}

// trainModel is `riskgraph train-model`: it migrates, trains a model on the
// labelled transactions of a period, prints the new version's held-out
// figures to stdout and, with -activate, activates it. Activation notifies
// every running instance, which reloads its model. Flag errors and usage go
// to stderr; input the training refuses (too few labels, a bad period) comes
// back as an error with the reason.
func trainModel(ctx context.Context, db *bun.DB, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("riskgraph train-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "labelled transactions that occurred from this time on, RFC 3339 (default: 30 days before -to)")
	to := fs.String("to", "", "up to (not including) this time, RFC 3339 (default: now)")
	seed := fs.Uint64("seed", 1, "shuffles the train/held-out split: the same labels and seed give the same model")
	l2 := fs.Float64("l2", fraudmodel.DefaultL2, "L2 regularisation strength")
	activate := fs.Bool("activate", false, "activate the new version: every running server reloads and scores with it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: riskgraph train-model [flags]")
		fmt.Fprintln(stderr, "Trains a logistic-regression model on the labelled transactions of a period and prints its held-out figures.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("train-model: %w", err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("train-model: unexpected argument %q", fs.Arg(0))
	}
	opts := fraudmodel.TrainOptions{Seed: *seed, L2: *l2}
	for _, t := range []struct {
		name, value string
		dst         *time.Time
	}{{"from", *from, &opts.From}, {"to", *to, &opts.To}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return fmt.Errorf("train-model: -%s %q: want an RFC 3339 time such as 2026-03-01T00:00:00Z", t.name, t.value)
		}
		*t.dst = v
	}

	if _, err := dbmigrate.Migrate(ctx, db); err != nil {
		return err
	}
	m, err := fraudmodel.Train(ctx, db, opts, time.Now())
	if err != nil {
		return commandError("train-model", err)
	}
	if *activate {
		active, err := fraudmodel.Activate(ctx, db, m.ID, nil, time.Now())
		if err != nil {
			printModel(stdout, m)
			return commandError("train-model: activate "+m.VersionName(), err)
		}
		m = active
	}
	printModel(stdout, m)
	return nil
}

// commandError keeps a client-safe error's message (the reason the input was
// refused) and passes any other error on as it is.
func commandError(prefix string, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		return fmt.Errorf("%s: %s", prefix, ae.Message)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// printModel writes a model's training record and held-out figures.
func printModel(w io.Writer, m *domain.Model) {
	mt := m.Metrics
	split := func(s domain.ModelSplit) string {
		return fmt.Sprintf("%d (%d FRAUD, %d LEGITIMATE)", s.Rows, s.Fraud, s.Legitimate)
	}
	all := domain.ModelSplit{Rows: mt.Train.Rows + mt.HeldOut.Rows, Fraud: mt.Train.Fraud + mt.HeldOut.Fraud,
		Legitimate: mt.Train.Legitimate + mt.HeldOut.Legitimate}
	precision := "n/a (nothing held out was predicted fraud)"
	if mt.Precision != nil {
		precision = fmt.Sprintf("%.3f", *mt.Precision)
	}
	fmt.Fprintf(w, "model %s (id %d), %s\n", m.VersionName(), m.ID, m.Algorithm)
	fmt.Fprintf(w, "  period     %s to %s\n", mt.From.Format(time.RFC3339), mt.To.Format(time.RFC3339))
	labels := split(all)
	if mt.Truncated {
		labels += fmt.Sprintf(", the newest %d of more", fraudmodel.MaxRows)
	}
	fmt.Fprintf(w, "  labels     %s\n", labels)
	fmt.Fprintf(w, "  train      %s, seed %d, L2 %g, %d iterations (%s)\n", split(mt.Train), mt.Seed, mt.L2, mt.Iterations, mt.Optimizer)
	fmt.Fprintf(w, "  held out   %s\n", split(mt.HeldOut))
	fmt.Fprintf(w, "  precision  %s\n", precision)
	fmt.Fprintf(w, "  recall     %.3f\n", mt.Recall)
	fmt.Fprintf(w, "  AUC        %.3f\n", mt.AUC)
	fmt.Fprintf(w, "  confusion  at p >= %g: %d TP, %d FP, %d TN, %d FN\n", mt.Threshold,
		mt.TruePositives, mt.FalsePositives, mt.TrueNegatives, mt.FalseNegatives)
	if m.Active {
		fmt.Fprintln(w, "  active     yes: running servers reload it now")
	} else {
		fmt.Fprintf(w, "  active     no: activate it with the activateModel(id: %d) mutation\n", m.ID)
	}
}

func serve(ctx context.Context, cfg config, db *bun.DB, log *slog.Logger) error {
	log.Info("migrating the database")
	version, err := dbmigrate.Migrate(ctx, db)
	if err != nil {
		return err
	}
	log.Info("database ready", "migration", version)

	a, err := newApp(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.bootstrap(ctx, cfg); err != nil {
		return err
	}

	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// GET carries the query in the URL: hold it to the body limit.
		MaxHeaderBytes: int(cfg.Limits.MaxBodyBytes) + 8<<10,
		ReadTimeout:    30 * time.Second,
		IdleTimeout:    120 * time.Second,
	}
	errc := make(chan error, 3)
	go func() { errc <- srv.ListenAndServe() }()
	if cfg.MetricsAddr != "" {
		metrics := http.NewServeMux()
		metrics.Handle("GET /metrics", a.MetricsHandler())
		go func() { errc <- http.ListenAndServe(cfg.MetricsAddr, metrics) }()
		log.Info("metrics listening", "url", "http://"+cfg.MetricsAddr+"/metrics")
	}
	if cfg.PprofAddr != "" {
		// Profiling stays off the public listener; bind it to loopback.
		go func() { errc <- http.ListenAndServe(cfg.PprofAddr, pprofMux()) }()
		log.Info("pprof listening", "addr", cfg.PprofAddr)
	}
	log.Info("listening: open "+listenURL(cfg.Addr), "url", listenURL(cfg.Addr), "addr", cfg.Addr, "env", cfg.Env, "playground", cfg.Playground)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain first: /readyz fails so load balancers stop sending, and every
	// response closes its connection, so no client is left holding an idle
	// keep-alive connection that Shutdown would cut under a request in flight.
	log.Info("shutting down: draining", "delay", cfg.ShutdownDelay)
	a.startDraining()
	time.Sleep(cfg.ShutdownDelay)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Websockets are hijacked, so Shutdown doesn't wait for them: end them first.
	a.closeSubscriptions()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// listenURL is the address to open in a browser for a listen address: a
// wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") is this machine.
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func newLogger(cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
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
