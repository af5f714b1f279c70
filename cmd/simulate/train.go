package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync/atomic"
	"time"
)

// trainedModel is what -train-seed trained and activated before the
// evaluation replay.
type trainedModel struct {
	seed         uint64
	id           string
	version      int
	fraud, legit int // labels sent
	failed       int // training events the server did not take
	metrics      modelMetrics
	// from and to bound the training traffic (the anomaly model's window too).
	from, to time.Time
	// without are the typologies left out of the training traffic (-holdout).
	without []string
}

// modelMetrics is the part of the API's ModelMetrics the report shows.
type modelMetrics struct {
	Train, HeldOut struct{ Rows, Fraud, Legitimate int }
	// Precision is nil when nothing held out was predicted fraud.
	Precision *float64
	Recall    float64
	AUC       float64
}

// summary is the report's header line on the model.
func (m *trainedModel) summary() string {
	precision := "n/a"
	if m.metrics.Precision != nil {
		precision = fmt.Sprintf("%.3f", *m.metrics.Precision)
	}
	s := fmt.Sprintf("v%d trained on seed %d (%s labels: %s FRAUD, %s LEGITIMATE; every transaction labelled), active during this replay: held-out %s (%d fraud): precision %s, recall %.3f, AUC %.3f",
		m.version, m.seed, thousands(m.fraud+m.legit), thousands(m.fraud), thousands(m.legit),
		thousands(m.metrics.HeldOut.Rows), m.metrics.HeldOut.Fraud, precision, m.metrics.Recall, m.metrics.AUC)
	if len(m.without) > 0 {
		s += fmt.Sprintf("; its training traffic had none of: %s", strings.Join(m.without, ", "))
	}
	if m.failed > 0 {
		s += fmt.Sprintf(" (%d training events failed)", m.failed)
	}
	return s
}

const (
	labelMutation = `mutation($id: ID!, $l: Label!) { labelTransaction(id: $id, label: $l, source: "SIMULATOR") { label } }`
	trainMutation = `mutation($in: TrainModelInput) { trainModel(input: $in) {
  id version metrics { train { rows fraud legitimate } heldOut { rows fraud legitimate } precision recall auc } } }`
	activateMutation = `mutation($id: ID!) { activateModel(id: $id) { active } }`
)

// trainOn replays the traffic of seed (same customers and days as cfg,
// without cfg.Without's typologies) under a run tag of its own, labels its
// transactions through labelTransaction as that run's SERVICE account and
// trains a model on the window's labels as the admin; activate switches it
// on. Its outcomes go nowhere else: the report counts only the evaluation
// replays that follow.
func trainOn(ctx context.Context, cfg config, seed uint64, concurrency int, c *client, admin *session, alive func() error) (*trainedModel, error) {
	cfg.Seed = seed
	t, err := generate(cfg)
	if err != nil {
		return nil, err
	}
	log.Printf("training seed %d: %d accounts, %d events, %d fraud episodes", seed, len(t.Accounts), len(t.Events), len(t.Episodes))
	r := newReplayer(c, admin)
	started := time.Now()
	if err := r.createAccounts(ctx, t.Accounts); err != nil {
		return nil, fmt.Errorf("training accounts: %w", err)
	}
	log.Printf("training: created %d accounts (run tag %s) in %.0f s; replaying", len(t.Accounts)+1, r.tag, time.Since(started).Seconds())
	outcomes, took, err := r.replay(ctx, t, concurrency, alive)
	if err != nil {
		return nil, fmt.Errorf("training replay stopped early: %w", err)
	}
	m := &trainedModel{seed: seed, without: cfg.Without}
	jobs := m.labelJobs(t, outcomes)
	log.Printf("training: replayed %d events in %.0f s (%d failed); labelling %d transactions", len(t.Events), took.Seconds(), m.failed, len(jobs))

	started = time.Now()
	if err := label(ctx, r.service, jobs, concurrency); err != nil {
		return nil, err
	}
	log.Printf("training: labelled %d transactions in %.0f s (%.0f/s); training", len(jobs), time.Since(started).Seconds(),
		float64(len(jobs))/time.Since(started).Seconds())

	started = time.Now()
	var out struct {
		TrainModel struct {
			ID      string
			Version int
			Metrics modelMetrics
		}
	}
	in := map[string]any{"from": t.Start.Format(time.RFC3339), "to": t.end().Format(time.RFC3339)}
	if err := admin.call(ctx, trainMutation, map[string]any{"in": in}, &out); err != nil {
		return nil, fmt.Errorf("train model: %w", err)
	}
	m.id, m.version, m.metrics = out.TrainModel.ID, out.TrainModel.Version, out.TrainModel.Metrics
	m.from, m.to = t.Start, t.end()
	log.Printf("training: model v%d trained in %.1f s", m.version, time.Since(started).Seconds())
	return m, nil
}

// activate makes the model score every detection from now on.
func (m *trainedModel) activate(ctx context.Context, admin *session) error {
	if err := admin.call(ctx, activateMutation, map[string]any{"id": m.id}, nil); err != nil {
		return fmt.Errorf("activate model v%d: %w", m.version, err)
	}
	return nil
}

// labelJob is one labelTransaction call.
type labelJob struct{ id, label string }

// labelJobs labels every transaction the server recorded, FRAUD or
// LEGITIMATE, counting both and the events that failed into m.
func (m *trainedModel) labelJobs(t *traffic, outcomes []outcome) []labelJob {
	var jobs []labelJob
	for i, e := range t.Events {
		o := outcomes[i]
		switch {
		case o.Err != "":
			m.failed++
		case e.Kind != submitEvent || o.TxID == "":
		case e.Fraud:
			jobs = append(jobs, labelJob{o.TxID, "FRAUD"})
			m.fraud++
		default:
			jobs = append(jobs, labelJob{o.TxID, "LEGITIMATE"})
			m.legit++
		}
	}
	return jobs
}

// label sends every job, up to concurrency at once; the first failure stops
// it (a partial label set would quietly train another model).
func label(ctx context.Context, s *session, jobs []labelJob, concurrency int) error {
	var done atomic.Int64
	return each(ctx, len(jobs), concurrency, func(ctx context.Context, i int) error {
		if err := s.call(ctx, labelMutation, map[string]any{"id": jobs[i].id, "l": jobs[i].label}, nil); err != nil {
			return fmt.Errorf("label transaction %s %s: %w", jobs[i].id, jobs[i].label, err)
		}
		if n := done.Add(1); n%5000 == 0 {
			log.Printf("labelled %d of %d transactions", n, len(jobs))
		}
		return nil
	})
}
