package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/dbmigrate"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
)

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
