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
// model together on traffic the model never saw. -configs compares seed
// rules, pack, pack + model and pack + model + anomaly side by side, one
// replay each; -holdout leaves typologies out of the training traffic and
// reports them apart.
//
// Usage:
//
//	simulate -admin-url postgres://postgres@127.0.0.1:5432/postgres [-seed 11] [-users 600] [-days 21]
//	simulate -url http://127.0.0.1:8080/graphql -admin-user admin -admin-password … [-seed 12]
//	simulate -admin-url … -seed 12 -train-seed 11
//	simulate -admin-url … -seed 12 -train-seed 11 -configs seed,pack,model,anomaly -holdout bot-farm,slow-drain,stolen-phone
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/smartfinance/riskgraph/engine"
)

type options struct {
	cfg config
	// trainSeed, when not 0, is the seed whose labelled traffic trains the
	// model the evaluation replay runs with.
	trainSeed uint64
	// configs are the configurations compared, in configOrder.
	configs []string
	// holdout are the fraud typologies the training traffic leaves out.
	holdout []string
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
	configs := flag.String("configs", "", "configurations to compare, each one replay of the traffic: seed, pack, model, anomaly separated by commas (default pack; model with -train-seed)")
	holdout := flag.String("holdout", "", "typologies the training traffic leaves out, reported apart: codes separated by commas ("+strings.Join(slices.Sorted(maps.Keys(typologyCodes)), ", ")+"); needs -train-seed")
	flag.IntVar(&o.concurrency, "concurrency", 8, "events in flight at once (events sharing an account, device, IP or merchant still go in event-time order)")
	flag.StringVar(&o.out, "out", "", "also write the table to this Markdown file")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on the whole run (default 10m, plus 15m for each further replay: training and every configuration)")
	flag.StringVar(&o.adminURL, "admin-url", "", "PostgreSQL admin URL: a fresh database is created there for the server (make passes scripts/pg.sh's)")
	flag.StringVar(&o.server, "server", "bin/riskgraph", "server binary to start (make simulate builds it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database afterwards, for inspection")
	flag.StringVar(&o.url, "url", "", "GraphQL endpoint of a running server to use instead, e.g. http://127.0.0.1:8080/graphql")
	flag.StringVar(&o.token, "token", "", "with -url: an ADMIN access token")
	flag.StringVar(&o.adminUser, "admin-user", "", "with -url: an ADMIN's username (instead of -token)")
	flag.StringVar(&o.adminPassword, "admin-password", os.Getenv("SIM_ADMIN_PASSWORD"), "with -url: that ADMIN's password (default $SIM_ADMIN_PASSWORD)")
	flag.Parse()
	if err := o.parseLists(*configs, *holdout); err != nil {
		log.Fatal(err)
	}
	timeoutSet := false
	flag.Visit(func(f *flag.Flag) { timeoutSet = timeoutSet || f.Name == "timeout" })
	if !timeoutSet {
		// Each replay, and the labels and fits.
		o.timeout += 15 * time.Minute * time.Duration(o.replays()-1)
	}
	if err := o.validate(); err != nil {
		log.Fatal(err)
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// parseLists reads -configs and -holdout.
func (o *options) parseLists(configs, holdout string) error {
	for code := range strings.SplitSeq(holdout, ",") {
		if code = strings.TrimSpace(code); code == "" {
			continue
		}
		typology, ok := typologyCodes[code]
		if !ok {
			return fmt.Errorf("-holdout: unknown typology %q (want %s)", code, strings.Join(slices.Sorted(maps.Keys(typologyCodes)), ", "))
		}
		if !slices.Contains(o.holdout, typology) {
			o.holdout = append(o.holdout, typology)
		}
	}
	slices.SortFunc(o.holdout, func(a, b string) int { return slices.Index(fraudClasses, a) - slices.Index(fraudClasses, b) })
	o.cfg.Without = nil // the evaluation traffic has every typology; only training leaves some out
	for name := range strings.SplitSeq(configs, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(configOrder, name) {
			return fmt.Errorf("-configs: unknown configuration %q (want %s)", name, strings.Join(configOrder, ", "))
		}
		if !slices.Contains(o.configs, name) {
			o.configs = append(o.configs, name)
		}
	}
	switch {
	case len(o.configs) > 0:
		slices.SortFunc(o.configs, func(a, b string) int { return slices.Index(configOrder, a) - slices.Index(configOrder, b) })
	case o.trainSeed != 0:
		o.configs = []string{configModel}
	default:
		o.configs = []string{configPack}
	}
	return nil
}

// replays counts the run's replays: training, and one per configuration.
func (o *options) replays() int {
	if o.trainSeed != 0 {
		return len(o.configs) + 1
	}
	return len(o.configs)
}

func (o *options) validate() error {
	needsModel := slices.Contains(o.configs, configModel) || slices.Contains(o.configs, configAnomaly)
	switch {
	case o.concurrency < 1:
		return errors.New("-concurrency must be at least 1")
	case o.url == "" && o.adminURL == "":
		return errors.New("-admin-url (to start a server) or -url (to use a running one) is required")
	case o.url != "" && o.token == "" && (o.adminUser == "" || o.adminPassword == ""):
		return errors.New("-url needs -token, or -admin-user with -admin-password")
	case o.trainSeed != 0 && o.trainSeed == o.cfg.Seed:
		return fmt.Errorf("-train-seed %d is the evaluation seed: train on another one", o.trainSeed)
	case needsModel && o.trainSeed == 0:
		return errors.New("-configs model and anomaly need -train-seed: the models are trained on another seed's traffic")
	case len(o.holdout) > 0 && o.trainSeed == 0:
		return errors.New("-holdout needs -train-seed: held-out typologies are left out of the training traffic")
	case o.url != "" && slices.Contains(o.configs, configSeed):
		return errors.New("-configs seed switches every other rule off during its replay: run it on a server of its own (without -url)")
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
	rules, err := listRules(ctx, admin)
	if err != nil {
		return err
	}
	result := &comparison{traffic: t, server: serverName, rules: enabledRules(rules), heldOut: o.holdout}

	var trained *trainedModel
	var anomaly *anomalyModel
	if o.trainSeed != 0 {
		cfg := o.cfg
		cfg.Without = o.holdout
		if trained, err = trainOn(ctx, cfg, o.trainSeed, o.concurrency, c, admin, alive); err != nil {
			return err
		}
		result.model = trained.summary()
		if slices.Contains(o.configs, configAnomaly) {
			// Trained now, on the training traffic alone: the evaluation replays come after.
			var why string
			anomaly, why = trainAnomaly(ctx, admin, trained.from, trained.to)
			result.anomaly = "not available: " + why
			if anomaly != nil {
				result.anomaly = anomaly.summary() + ", trained on the training seed's window, active in the last configuration"
			}
		}
	}

	var failed error
	for _, name := range o.configs {
		col := &column{name: name}
		result.columns = append(result.columns, col)
		if failed != nil {
			col.unavailable = "an earlier configuration's replay failed"
			continue
		}
		restore := func() error { return nil }
		switch name {
		case configSeed:
			if restore, err = seedRulesOnly(ctx, admin, rules); err != nil {
				return err
			}
		case configModel:
			if err := trained.activate(ctx, admin); err != nil {
				return err
			}
		case configAnomaly:
			if anomaly == nil {
				col.unavailable = strings.TrimPrefix(result.anomaly, "not available: ")
				continue
			}
			if err := trained.activate(ctx, admin); err != nil {
				return err
			}
			if err := anomaly.switchOn(ctx, admin); err != nil {
				return err
			}
		}
		log.Printf("configuration %q: replaying seed %d", configTitles[name], o.cfg.Seed)
		rep, replayErr := evaluate(ctx, t, c, admin, o.concurrency, alive)
		if err := restore(); err != nil {
			return err
		}
		col.rep = rep
		switch {
		case replayErr != nil:
			failed = fmt.Errorf("%s: replay stopped early: %w", configTitles[name], replayErr)
		case rep != nil && rep.failed > 0:
			failed = fmt.Errorf("%s: %d events failed, the first with %s", configTitles[name], rep.failed, rep.firstError)
		}
	}

	table := result.markdown()
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
	return failed
}

// evaluate replays the traffic under a run tag of its own and counts what
// the server said; rep is nil only when the accounts could not be created.
func evaluate(ctx context.Context, t *traffic, c *client, admin *session, concurrency int, alive func() error) (*report, error) {
	r := newReplayer(c, admin)
	started := time.Now()
	if err := r.createAccounts(ctx, t.Accounts); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	log.Printf("created %d accounts (run tag %s) in %.0f s; replaying", len(t.Accounts)+1, r.tag, time.Since(started).Seconds())
	outcomes, took, err := r.replay(ctx, t, concurrency, alive)
	rep := newReport(t, outcomes)
	rep.concurrency, rep.replayTime = concurrency, took
	return rep, err
}

// serverRule is a rule as the report and the seed configuration need it.
type serverRule struct {
	ID      string
	Name    string
	Score   int
	Action  string
	Scope   string
	Enabled bool
}

func listRules(ctx context.Context, admin *session) ([]serverRule, error) {
	var out struct{ Rules []serverRule }
	if err := admin.call(ctx, `{ rules { id name score action scope enabled } }`, nil, &out); err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	return out.Rules, nil
}

// seedRulesOnly switches off every enabled TRANSACTION rule that is not one
// of the seed documents' (engine.BuiltinRules) by name; restore switches
// them back on.
func seedRulesOnly(ctx context.Context, admin *session, rules []serverRule) (restore func() error, err error) {
	var off []string
	for _, r := range rules {
		if r.Enabled && r.Scope != string(engine.ScopeLogin) &&
			!slices.ContainsFunc(engine.BuiltinRules(), func(b engine.Rule) bool { return b.Name == r.Name }) {
			off = append(off, r.ID)
		}
	}
	set := func(enabled bool) error {
		for _, id := range off {
			if err := admin.call(ctx, `mutation($id: ID, $on: Boolean!) { setRuleEnabled(id: $id, enabled: $on) { id } }`,
				map[string]any{"id": id, "on": enabled}, nil); err != nil {
				return fmt.Errorf("switch rule %s %v: %w", id, map[bool]string{true: "on", false: "off"}[enabled], err)
			}
		}
		return nil
	}
	return func() error { return set(true) }, set(false)
}

// enabledRules names the server's enabled rules with what a match does, for
// the report's header: the table is only comparable between equal rule sets.
func enabledRules(rules []serverRule) []string {
	var names []string
	for _, r := range rules {
		switch {
		case !r.Enabled:
		case r.Action == string(engine.ActionReject):
			names = append(names, r.Name+" (reject)")
		default:
			names = append(names, fmt.Sprintf("%s (%+d)", r.Name, r.Score))
		}
	}
	return names
}
