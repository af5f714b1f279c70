//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one scenario's outcome. Steps, figures and checks are printed as
// they happen, so an interrupted run still shows how far it got.
type result struct {
	num      int
	name     string
	title    string
	out      io.Writer
	start    time.Time
	elapsed  time.Duration
	failures int
	// headline is the figures repeated in the summary table.
	headline []string
}

func newResult(out io.Writer, num, of int, name, title string) *result {
	r := &result{num: num, name: name, title: title, out: out, start: time.Now()}
	fmt.Fprintf(out, "\n== %d/%d %s: %s ==\n", num, of, name, title)
	return r
}

// step reports progress, stamped with the time since the scenario started.
func (r *result) step(format string, args ...any) {
	fmt.Fprintf(r.out, "  %6.2fs  %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// figure reports a measurement that is not a pass/fail criterion by itself.
func (r *result) figure(format string, args ...any) {
	fmt.Fprintf(r.out, "           %s\n", fmt.Sprintf(format, args...))
}

// check reports a criterion; a false one fails the scenario.
func (r *result) check(ok bool, format string, args ...any) bool {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		r.failures++
	}
	fmt.Fprintf(r.out, "    %s   %s\n", mark, fmt.Sprintf(format, args...))
	return ok
}

func (r *result) fail(format string, args ...any) { r.check(false, format, args...) }

func (r *result) headlines(items ...string) { r.headline = append(r.headline, items...) }

func (r *result) passed() bool { return r.failures == 0 }

func (r *result) verdict() string {
	if r.passed() {
		return "PASS"
	}
	return "FAIL"
}

// finish prints the scenario's verdict line.
func (r *result) finish() {
	r.elapsed = time.Since(r.start)
	fmt.Fprintf(r.out, "  %s  %s in %.1fs", r.verdict(), r.name, r.elapsed.Seconds())
	if r.failures > 0 {
		fmt.Fprintf(r.out, " (%d failed checks)", r.failures)
	}
	fmt.Fprintln(r.out)
}

func printSummary(out io.Writer, results []*result, total time.Duration) {
	fmt.Fprintf(out, "\nSUMMARY (%.0fs in all)\n", total.Seconds())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tscenario\tresult\ttime\tfigures")
	for _, r := range results {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%.1fs\t%s\n", r.num, r.name, r.verdict(), r.elapsed.Seconds(), strings.Join(r.headline, "; "))
	}
	tw.Flush()
}

// quantile returns the q-quantile (0..1) of ds, 0 when there are none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// examples quotes up to three items after a colon, "" when there are none.
func examples(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", items[:min(3, len(items))])
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// countsOf renders a tally as "a 3, b 1" in descending order, "none" when empty.
func countsOf(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
