// Command simulate generates labelled traffic (ordinary customers, benign
// patterns that fool naive rules, and fraud typologies as episodes) for N
// customers over D days from a seed, replays it in event time through the
// GraphQL API, and prints how the server's rules did: per typology,
// transactions flagged and stopped and episodes caught; per benign pattern,
// transactions flagged and stopped. `make simulate` runs it.
//
// By default it builds nothing itself: make builds bin/riskgraph, and the
// command runs it against a fresh database on -admin-url, dropped at the end.
// With -url it uses a running server instead (to compare rule packs), as an
// ADMIN given by -token or -admin-user/-admin-password.
//
// With -train-seed it first replays another seed's traffic, labels it, trains
// a model on those labels and activates it, so the table shows rules and
// model together on traffic the model never saw.
//
// Usage:
//
//	simulate -admin-url postgres://postgres@127.0.0.1:5432/postgres [-seed 11] [-users 600] [-days 21]
//	simulate -url http://127.0.0.1:8080/graphql -admin-user admin -admin-password … [-seed 12]
//	simulate -admin-url … -seed 12 -train-seed 11
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/smartfinance/riskgraph/engine"
)

type options struct {
	cfg config
	// trainSeed, when not 0, is the seed whose labelled traffic trains the
	// model the evaluation replay runs with.
	trainSeed uint64
	// rulePacks is RULE_PACKS for the server the command starts.
	rulePacks   string
	concurrency int
	out         string
	timeout     time.Duration
	// Own server.
	adminURL string
	server   string
	keep     bool
	// Running server.
	url           string
	token         string
	adminUser     string
	adminPassword string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("simulate: ")
	var o options
	flag.Uint64Var(&o.cfg.Seed, "seed", 11, "traffic seed: the same seed gives the same traffic")
	flag.IntVar(&o.cfg.Users, "users", 600, fmt.Sprintf("ordinary customers (at least %d); device rings add synthetic accounts", minUsers))
	flag.IntVar(&o.cfg.Days, "days", 21, fmt.Sprintf("days of traffic, %d to %d, ending at the last UTC midnight", minDays, maxDays))
	flag.StringVar(&o.rulePacks, "rule-packs", "seed,default", "RULE_PACKS of the server it starts: seed (the seed documents' rules) and/or default (the typology pack)")
	flag.Uint64Var(&o.trainSeed, "train-seed", 0, "first replay this seed's traffic, label it, train a model on it and activate it (0: no model)")
	flag.IntVar(&o.concurrency, "concurrency", 8, "events in flight at once (events sharing an account, device, IP or merchant still go in event-time order)")
	flag.StringVar(&o.out, "out", "", "also write the table to this Markdown file")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole run (with -train-seed: 25m unless given)")
	flag.StringVar(&o.adminURL, "admin-url", "", "PostgreSQL admin URL: a fresh database is created there for the server (make passes scripts/pg.sh's)")
	flag.StringVar(&o.server, "server", "bin/riskgraph", "server binary to start (make simulate builds it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database afterwards, for inspection")
	flag.StringVar(&o.url, "url", "", "GraphQL endpoint of a running server to use instead, e.g. http://127.0.0.1:8080/graphql")
	flag.StringVar(&o.token, "token", "", "with -url: an ADMIN access token")
	flag.StringVar(&o.adminUser, "admin-user", "", "with -url: an ADMIN's username (instead of -token)")
	flag.StringVar(&o.adminPassword, "admin-password", os.Getenv("SIM_ADMIN_PASSWORD"), "with -url: that ADMIN's password (default $SIM_ADMIN_PASSWORD)")
	flag.Parse()
	timeoutSet := false
	flag.Visit(func(f *flag.Flag) { timeoutSet = timeoutSet || f.Name == "timeout" })
	if o.trainSeed != 0 && !timeoutSet {
		// Two replays, the labels and a fit.
		o.timeout = 25 * time.Minute
	}
	if err := o.validate(); err != nil {
		log.Fatal(err)
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func (o *options) validate() error {
	switch {
	case o.concurrency < 1:
		return errors.New("-concurrency must be at least 1")
	case o.url == "" && o.adminURL == "":
		return errors.New("-admin-url (to start a server) or -url (to use a running one) is required")
	case o.url != "" && o.token == "" && (o.adminUser == "" || o.adminPassword == ""):
		return errors.New("-url needs -token, or -admin-user with -admin-password")
	case o.trainSeed != 0 && o.trainSeed == o.cfg.Seed:
		return fmt.Errorf("-train-seed %d is the evaluation seed: train on another one", o.trainSeed)
	}
	// The window ends at the last UTC midnight, so local hours are the same
	// for a seed whatever the date; every event must stay within the 30-day
	// backfill limit until the run's time bound.
	o.cfg.Start = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -o.cfg.Days)
	if age := time.Since(o.cfg.Start) + o.timeout; age > submitBackfill {
		return fmt.Errorf("-days %d reaches %s back by the end of a %s run, past the server's 30-day backfill limit: use -days %d",
			o.cfg.Days, age.Round(time.Minute), o.timeout, o.cfg.Days-1)
	}
	return o.cfg.validate()
}

// submitBackfill is how far back submitTransaction accepts occurredAt.
const submitBackfill = 30 * 24 * time.Hour

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	t, err := generate(o.cfg)
	if err != nil {
		return err
	}
	log.Printf("seed %d: %d accounts, %d events, %d fraud episodes, %s to %s",
		o.cfg.Seed, len(t.Accounts), len(t.Events), len(t.Episodes), t.Start.Format(time.DateOnly), t.end().Format(time.DateOnly))

	url, serverName, alive := o.url, "running server at "+o.url, func() error { return nil }
	var admin *session
	if o.url == "" {
		srv, err := startOwn(ctx, o.adminURL, o.server, o.rulePacks)
		if srv != nil {
			defer srv.stop(o.keep)
		}
		if err != nil {
			return err
		}
		url, serverName, alive = srv.Server.GraphQLURL(), o.server+" (APP_ENV=production) on a fresh database", srv.Server.Alive
		admin = &session{username: srv.adminUser, password: srv.adminPassword}
	} else {
		admin = &session{username: o.adminUser, password: o.adminPassword, token: o.token}
	}
	c := newClient(url, o.concurrency+4)
	admin.c = c
	if admin.token == "" {
		if err := admin.renew(ctx, ""); err != nil {
			return err
		}
	}
	rules, err := enabledRules(ctx, admin)
	if err != nil {
		return err
	}

	var trained *trainedModel
	if o.trainSeed != 0 {
		if trained, err = trainOn(ctx, o.cfg, o.trainSeed, o.concurrency, c, admin, alive); err != nil {
			return err
		}
	}

	r := newReplayer(c, admin)
	started := time.Now()
	if err := r.createAccounts(ctx, t.Accounts); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	log.Printf("created %d accounts (run tag %s) in %.0f s; replaying", len(t.Accounts)+1, r.tag, time.Since(started).Seconds())
	outcomes, took, replayErr := r.replay(ctx, t, o.concurrency, alive)

	rep := newReport(t, outcomes)
	rep.server, rep.rules, rep.concurrency, rep.replayTime = serverName, rules, o.concurrency, took
	if trained != nil {
		rep.model = trained.summary()
	}
	table := rep.markdown()
	fmt.Print(table)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			return err
		}
		log.Printf("wrote %s", o.out)
	}
	switch {
	case replayErr != nil:
		return fmt.Errorf("replay stopped early: %w", replayErr)
	case rep.failed > 0:
		return fmt.Errorf("%d events failed, the first with %s", rep.failed, rep.firstError)
	}
	return nil
}

// enabledRules names the server's enabled rules with what a match does, for
// the report's header: the table is only comparable between equal rule sets.
func enabledRules(ctx context.Context, admin *session) ([]string, error) {
	var out struct {
		Rules []struct {
			Name    string
			Score   int
			Action  string
			Enabled bool
		}
	}
	if err := admin.call(ctx, `{ rules { name score action enabled } }`, nil, &out); err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	var names []string
	for _, r := range out.Rules {
		switch {
		case !r.Enabled:
		case r.Action == string(engine.ActionReject):
			names = append(names, r.Name+" (reject)")
		default:
			names = append(names, fmt.Sprintf("%s (+%d)", r.Name, r.Score))
		}
	}
	return names, nil
}
