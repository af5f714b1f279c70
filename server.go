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
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/store"
	"github.com/smartfinance/riskgraph/internal/tracing"
)

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
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	log := newLogger(cfg)
	for _, w := range warnings {
		log.Warn(w)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cfg.Tracing.Enabled() {
		cfg.Pool.Tracer = tracing.DBTracer()
	}
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
