package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// tally is one row of the report: a typology or a benign pattern.
type tally struct {
	class    string
	episodes int
	caught   int
	tx       int
	flagged  int
	stopped  int
	rules    map[string]int // matched rule name → transactions
}

func (r *tally) add(o outcome) {
	r.tx++
	if o.flagged() {
		r.flagged++
	}
	if o.stopped() {
		r.stopped++
	}
	for _, name := range o.Rules {
		r.rules[name]++
	}
}

func (r *tally) merge(o *tally) {
	r.episodes += o.episodes
	r.caught += o.caught
	r.tx += o.tx
	r.flagged += o.flagged
	r.stopped += o.stopped
}

// report is what one replay measured.
type report struct {
	traffic     *traffic
	concurrency int
	fraud       []*tally
	benign      []*tally
	fraudAll    tally
	benignAll   tally
	logins      int
	failed      int
	firstError  string
	replayTime  time.Duration
	submissions int
}

// newReport counts the outcomes by class; an episode is caught when any of
// its transactions was flagged or stopped. Failed events count nowhere but
// in failed.
func newReport(t *traffic, outcomes []outcome) *report {
	rep := &report{traffic: t, fraudAll: tally{class: "all fraud"}, benignAll: tally{class: "all benign"}}
	rows := map[string]*tally{}
	for _, class := range fraudClasses {
		rows[class] = &tally{class: class, rules: map[string]int{}}
		rep.fraud = append(rep.fraud, rows[class])
	}
	for _, class := range benignClasses {
		rows[class] = &tally{class: class, rules: map[string]int{}}
		rep.benign = append(rep.benign, rows[class])
	}
	caught := make([]bool, len(t.Episodes))
	for i, e := range t.Events {
		o := outcomes[i]
		if o.Err != "" {
			rep.failed++
			if rep.firstError == "" {
				rep.firstError = o.Err
			}
			continue
		}
		if !o.Done {
			continue
		}
		if e.Kind == loginEvent {
			rep.logins++
			continue
		}
		rep.submissions++
		rows[e.Class].add(o)
		if e.Fraud && (o.flagged() || o.stopped()) {
			caught[e.Episode] = true
		}
	}
	for i, ep := range t.Episodes {
		rows[ep.Typology].episodes++
		if caught[i] {
			rows[ep.Typology].caught++
		}
	}
	for _, r := range rep.fraud {
		rep.fraudAll.merge(r)
	}
	for _, r := range rep.benign {
		rep.benignAll.merge(r)
	}
	return rep
}

func (rep *report) throughput() float64 {
	if rep.replayTime <= 0 {
		return 0
	}
	return float64(rep.submissions+rep.logins) / rep.replayTime.Seconds()
}

// tables renders the per-typology and per-pattern tables with the rules
// matched, and the totals.
func (rep *report) tables(b *strings.Builder) {
	b.WriteString("| fraud typology | episodes | transactions | flagged (MEDIUM+) | stopped (REVIEW/REJECT) | episodes caught | rules matched |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range append(rep.fraud, &rep.fraudAll) {
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %d of %d (%s) | %s |\n", bold(r, &rep.fraudAll), r.episodes, thousands(r.tx),
			count(r.flagged, r.tx, 1), count(r.stopped, r.tx, 1), r.caught, r.episodes, pct(r.caught, r.episodes, 0), topRules(r.rules))
	}
	b.WriteString("\n| benign pattern | transactions | flagged (MEDIUM+) | stopped (REVIEW/REJECT) | rules matched |\n")
	b.WriteString("|---|---:|---:|---:|---|\n")
	for _, r := range append(rep.benign, &rep.benignAll) {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", bold(r, &rep.benignAll), thousands(r.tx),
			count(r.flagged, r.tx, 2), count(r.stopped, r.tx, 2), topRules(r.rules))
	}
	b.WriteString("\n| total | |\n|---|---:|\n")
	fmt.Fprintf(b, "| fraud episodes caught | %s (%d of %d) |\n", pct(rep.fraudAll.caught, rep.fraudAll.episodes, 1), rep.fraudAll.caught, rep.fraudAll.episodes)
	fmt.Fprintf(b, "| fraud transactions flagged / stopped | %s / %s |\n", pct(rep.fraudAll.flagged, rep.fraudAll.tx, 1), pct(rep.fraudAll.stopped, rep.fraudAll.tx, 1))
	fmt.Fprintf(b, "| benign transactions flagged | %s |\n", pct(rep.benignAll.flagged, rep.benignAll.tx, 2))
	fmt.Fprintf(b, "| benign transactions stopped | %s |\n", pct(rep.benignAll.stopped, rep.benignAll.tx, 2))
	fmt.Fprintf(b, "| throughput | %.0f submissions/s (%s events in %.0f s, %d at a time) |\n",
		rep.throughput(), thousands(rep.submissions+rep.logins), rep.replayTime.Seconds(), rep.concurrency)
	if rep.failed > 0 {
		fmt.Fprintf(b, "| **failed events** | %d, first: %s |\n", rep.failed, rep.firstError)
	}
	b.WriteString("\nflagged: risk level MEDIUM or HIGH; stopped: decision REVIEW or REJECT; an episode is caught when any of its transactions is flagged or stopped. ")
	b.WriteString("Rules matched counts transactions per rule, whatever the final level.\n")
}

// bold marks the totals row.
func bold(r, total *tally) string {
	if r == total {
		return "**" + r.class + "**"
	}
	return r.class
}

// topRules lists the three rules matched most often.
func topRules(rules map[string]int) string {
	names := slices.SortedFunc(maps.Keys(rules), func(a, b string) int {
		return cmp.Or(rules[b]-rules[a], strings.Compare(a, b))
	})
	var parts []string
	for _, n := range names[:min(3, len(names))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", n, rules[n]))
	}
	return strings.Join(parts, ", ")
}

func count(n, of, digits int) string { return fmt.Sprintf("%d (%s)", n, pct(n, of, digits)) }

func pct(n, of, digits int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.*f%%", digits, 100*float64(n)/float64(of))
}

// thousands groups digits: 19,899.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
