package main

import (
	"fmt"
	"slices"
	"strings"
)

// The configurations a run can compare, each one evaluation replay of the
// same traffic on the same server, in this order.
const (
	configSeed    = "seed"    // the seed documents' rules alone (every other rule switched off for the replay)
	configPack    = "pack"    // every rule the server seeded (RULE_PACKS)
	configModel   = "model"   // … and the model trained on -train-seed
	configAnomaly = "anomaly" // … and the anomaly model trained on -train-seed's window
)

var (
	configOrder  = []string{configSeed, configPack, configModel, configAnomaly}
	configTitles = map[string]string{
		configSeed: "seed rules", configPack: "pack", configModel: "pack + model", configAnomaly: "pack + model + anomaly",
	}
)

// column is one configuration's evaluation; rep is nil when it could not run.
type column struct {
	name        string
	rep         *report
	unavailable string
}

// comparison is a run's table: every configuration on one traffic.
type comparison struct {
	traffic *traffic
	server  string
	rules   []string
	model   string
	anomaly string
	heldOut []string // fraud typologies the training traffic left out
	columns []*column
}

func (c *comparison) isHeldOut(class string) bool { return slices.Contains(c.heldOut, class) }

// subtotal merges the rows of rep's typologies that keep accepts.
func subtotal(rep *report, name string, keep func(string) bool) *tally {
	t := &tally{class: name}
	for _, r := range rep.fraud {
		if keep(r.class) {
			t.merge(r)
		}
	}
	return t
}

// alertPrecision is fraud alerts over all alerts: a MEDIUM or HIGH detection
// raises one.
func alertPrecision(rep *report) string {
	all := rep.fraudAll.flagged + rep.benignAll.flagged
	return fmt.Sprintf("%s (%s of %s)", pct(rep.fraudAll.flagged, all, 1), thousands(rep.fraudAll.flagged), thousands(all))
}

func fraudCell(r *tally) string {
	return fmt.Sprintf("%d of %d · %s / %s", r.caught, r.episodes, pct(r.flagged, r.tx, 1), pct(r.stopped, r.tx, 1))
}

func benignCell(r *tally) string {
	return fmt.Sprintf("%d (%s) / %d (%s)", r.flagged, pct(r.flagged, r.tx, 2), r.stopped, pct(r.stopped, r.tx, 2))
}

// markdown renders the comparison, then each configuration's details.
func (c *comparison) markdown() string {
	t := c.traffic
	var b strings.Builder
	synthetic := 0
	for _, a := range t.Accounts {
		if a.Synthetic {
			synthetic++
		}
	}
	fmt.Fprintf(&b, "## make simulate: seed %d, %d customers + %d synthetic accounts, %d days\n\n", t.Seed, t.Users, synthetic, t.Days)
	fmt.Fprintf(&b, "Server: %s. Enabled rules: %s.\n\n", c.server, strings.Join(c.rules, ", "))
	if c.model != "" {
		fmt.Fprintf(&b, "Model: %s.\n\n", c.model)
	}
	if c.anomaly != "" {
		fmt.Fprintf(&b, "Anomaly: %s.\n\n", c.anomaly)
	}
	if len(c.heldOut) > 0 {
		fmt.Fprintf(&b, "Held out (the model's training traffic had none of them): %s.\n\n", strings.Join(c.heldOut, ", "))
	}
	var ran []*column
	for _, col := range c.columns {
		if col.rep != nil {
			ran = append(ran, col)
		}
	}
	if len(ran) > 0 {
		rep := ran[0].rep
		all := rep.fraudAll.tx + rep.benignAll.tx
		fmt.Fprintf(&b, "Traffic: %s transactions (%s fraud, %s), replayed in event time once per configuration.\n\n",
			thousands(all), thousands(rep.fraudAll.tx), pct(rep.fraudAll.tx, all, 1))
	}

	header := func(first string, counts ...string) {
		b.WriteString("| " + first)
		for _, c := range counts {
			b.WriteString(" | " + c)
		}
		for _, col := range c.columns {
			b.WriteString(" | " + configTitles[col.name])
		}
		b.WriteString(" |\n|---" + strings.Repeat("|---:", len(counts)) + strings.Repeat("|---", len(c.columns)) + "|\n")
	}
	// row writes one line: its label, counts from the first configuration
	// that ran, and a cell per configuration.
	row := func(label string, counts func(*report) []string, cell func(*report) string) {
		b.WriteString("| " + label)
		if counts != nil {
			var cs []string
			if len(ran) > 0 {
				cs = counts(ran[0].rep)
			}
			b.WriteString(" | " + strings.Join(cs, " | "))
		}
		for _, col := range c.columns {
			if col.rep == nil {
				b.WriteString(" | not available")
			} else {
				b.WriteString(" | " + cell(col.rep))
			}
		}
		b.WriteString(" |\n")
	}
	find := func(rows []*tally, class string) *tally {
		return rows[slices.IndexFunc(rows, func(r *tally) bool { return r.class == class })]
	}

	header("fraud typology", "episodes", "transactions")
	for _, class := range fraudClasses {
		label := class
		if c.isHeldOut(class) {
			label += " (held out)"
		}
		row(label, func(r *report) []string {
			t := find(r.fraud, class)
			return []string{fmt.Sprint(t.episodes), thousands(t.tx)}
		}, func(r *report) string { return fraudCell(find(r.fraud, class)) })
	}
	type subset struct {
		label string
		keep  func(string) bool
	}
	subtotals := []subset{{"**all fraud**", func(string) bool { return true }}}
	if len(c.heldOut) > 0 {
		subtotals = append(subtotals, subset{"**held-out typologies**", c.isHeldOut},
			subset{"**trained typologies**", func(s string) bool { return !c.isHeldOut(s) }})
	}
	for _, s := range subtotals {
		row(s.label, func(r *report) []string {
			t := subtotal(r, "", s.keep)
			return []string{fmt.Sprint(t.episodes), thousands(t.tx)}
		}, func(r *report) string { return fraudCell(subtotal(r, "", s.keep)) })
	}
	b.WriteString("\nCells: episodes caught · fraud transactions flagged (MEDIUM+) / stopped (REVIEW/REJECT).\n\n")

	header("benign pattern", "transactions")
	for _, class := range benignClasses {
		row(class, func(r *report) []string { return []string{thousands(find(r.benign, class).tx)} },
			func(r *report) string { return benignCell(find(r.benign, class)) })
	}
	row("**all benign**", func(r *report) []string { return []string{thousands(r.benignAll.tx)} },
		func(r *report) string { return benignCell(&r.benignAll) })
	b.WriteString("\nCells: benign transactions flagged / stopped.\n\n")

	header("total")
	row("fraud episodes caught", nil, func(r *report) string {
		return fmt.Sprintf("%s (%d of %d)", pct(r.fraudAll.caught, r.fraudAll.episodes, 1), r.fraudAll.caught, r.fraudAll.episodes)
	})
	row("fraud transactions flagged / stopped", nil, func(r *report) string {
		return pct(r.fraudAll.flagged, r.fraudAll.tx, 1) + " / " + pct(r.fraudAll.stopped, r.fraudAll.tx, 1)
	})
	if len(c.heldOut) > 0 {
		row("held-out episodes caught", nil, func(r *report) string {
			h := subtotal(r, "", c.isHeldOut)
			return fmt.Sprintf("%s (%d of %d)", pct(h.caught, h.episodes, 1), h.caught, h.episodes)
		})
		row("held-out transactions flagged / stopped", nil, func(r *report) string {
			h := subtotal(r, "", c.isHeldOut)
			return pct(h.flagged, h.tx, 1) + " / " + pct(h.stopped, h.tx, 1)
		})
	}
	row("benign transactions flagged / stopped", nil, func(r *report) string {
		return pct(r.benignAll.flagged, r.benignAll.tx, 2) + " / " + pct(r.benignAll.stopped, r.benignAll.tx, 2)
	})
	row("alert precision (fraud alerts ÷ all alerts)", nil, alertPrecision)
	row("failed events", nil, func(r *report) string { return fmt.Sprint(r.failed) })
	b.WriteString("\nAn episode is caught when any of its transactions is flagged or stopped; alerts are transactions' (MEDIUM or HIGH).\n")

	for _, col := range c.columns {
		fmt.Fprintf(&b, "\n### %s\n\n", configTitles[col.name])
		if col.rep == nil {
			fmt.Fprintf(&b, "Not available: %s.\n", col.unavailable)
			continue
		}
		col.rep.tables(&b)
	}
	return b.String()
}
