package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets from the performance issues.
const (
	// End to end at 16 clients against seed 004's detect_fraud and the floor.
	targetSeedRatio  = 1.0
	targetFloorRatio = 0.50
	// p99 under moderate load: the open loop at half the maximum, 4 clients.
	targetP99          = 25 * time.Millisecond
	targetBulkRatio    = 1.0 // bulk items/s ÷ the floor's commits/s
	targetHistoryRatio = 0.90
	targetEngineNs     = 5000
	targetEngineAllocs = 30
	targetFanoutP99    = 100 * time.Millisecond
	targetRSS          = 200 << 20
)

type machine struct {
	cpu      string
	cores    int
	memory   int64
	kernel   string
	commit   string
	postgres string
}

// report gathers every phase's result and renders the one table.
type report struct {
	plan        plan
	started     time.Time
	elapsed     time.Duration
	machine     machine
	engine      []engineResult
	floor       *floorResult
	seed        *seedResult
	small       *loadResult
	batches     *histogram // nil: the server exposes no batch sizes
	openLoop    *moderateResult
	fewClients  *moderateResult
	bulk        *bulkResult
	outbox      *outboxResult
	large       *loadResult
	historyRows int
	historyLoad time.Duration
	fanout      *fanoutResult
	entity      *entityCost
	ingest      *ingestResult // nil when the run had no NATS
	rssSmall    memory
	rss         memory
	// loadBefore is the 1-minute load average when the run started: other
	// work on the machine skews every number here.
	loadBefore string
}

func describeMachine(ctx context.Context) machine {
	m := machine{cpu: "unknown CPU", cores: runtime.NumCPU(), commit: gitCommit(ctx)}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
				m.memory = kb << 10
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// gitCommit is HEAD's short hash, marked when the tree has uncommitted changes.
func gitCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	commit := strings.TrimSpace(string(out))
	if exec.CommandContext(ctx, "git", "diff", "--quiet", "HEAD").Run() != nil {
		commit += " + uncommitted changes"
	}
	return commit
}

func (r *report) render() string {
	var b strings.Builder
	p, m := r.plan, r.machine
	fmt.Fprintf(&b, "# make bench%s — %s\n\n", map[bool]string{true: "-quick", false: ""}[p.name == "quick"], r.started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Commit %s · %s × %d cores · %.1f GiB RAM · %s · %s · PostgreSQL %s (same machine) · "+
		"%d concurrent clients · %s measured after %s warm-up · load average %s at the start · whole run %s\n\n",
		m.commit, m.cpu, m.cores, float64(m.memory)/(1<<30), m.kernel, runtime.Version(), m.postgres,
		p.clients, p.measure, p.warmup, r.loadBefore, r.elapsed.Round(time.Second))

	b.WriteString("| measure | result | target | |\n|---|---|---|---|\n")
	row := func(measure, result, target string, ok *bool) {
		verdict := ""
		if ok != nil {
			verdict = map[bool]string{true: "met", false: "**missed**"}[*ok]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", measure, result, target, verdict)
	}
	f := r.floor
	row(fmt.Sprintf("Floor: pgbench, 1 transaction + 1 detection row per commit (one prepared statement, %d clients)", p.clients),
		fmt.Sprintf("%s commits/s · p50 %s · p95 %s · p99 %s", thousands(f.tps), ms(f.p50), ms(f.p95), ms(f.p99)), "", nil)
	seed := r.seed
	if seed.missing != "" {
		row("Seed 004's scorer (pgbench detect.pgbench, raw.pgbench)", seed.missing, "", nil)
	} else {
		row(fmt.Sprintf("Seed 004: raw.pgbench, its 2 rows per commit (%d clients)", p.clients),
			fmt.Sprintf("%s tps · p50 %s · p99 %s", thousands(seed.raw.tps), ms(seed.raw.p50), ms(seed.raw.p99)), "", nil)
		row(fmt.Sprintf("Seed 004: detect.pgbench, detect_fraud + update_user_features in PL/pgSQL (%d clients)", p.clients),
			fmt.Sprintf("%s tps · p50 %s · p99 %s", thousands(seed.detect.tps), ms(seed.detect.p50), ms(seed.detect.p99)), "", nil)
	}
	row(fmt.Sprintf("End to end: submitTransaction over HTTP, vegeta, %d closed-loop clients, %s users, %s devices", p.clients, thousands(float64(p.users)), thousands(float64(p.devices))),
		r.small.summary(), "", nil)
	if seed.missing == "" {
		ratio := r.small.throughput / seed.detect.tps
		row("↳ ÷ seed 004's detect_fraud", times(ratio), "≥ "+times(targetSeedRatio), verdict(ratio >= targetSeedRatio))
	} else {
		row("↳ ÷ seed 004's detect_fraud", "not measured", "≥ "+times(targetSeedRatio), nil)
	}
	ratio := r.small.throughput / f.tps
	row("↳ ÷ floor", times(ratio), "≥ "+times(targetFloorRatio), verdict(ratio >= targetFloorRatio))
	row("↳ CPU per submission, small history", r.small.cpuSummary(), "", nil)
	row(stagesMeasure+", small history", r.small.stages.summary(), "", nil)
	if r.batches != nil {
		row("↳ group commit: submissions per database transaction (riskgraph_submit_batch_size)", r.batches.summary(), "", nil)
	} else {
		row("↳ group commit: submissions per database transaction", "not exposed (no "+batchMetric+" on /metrics)", "", nil)
	}
	ol := r.openLoop
	row(fmt.Sprintf("Moderate load: open loop at %.0f%% of the 16-client throughput", 100*openLoopShare),
		ol.summary(), "p99 ≤ "+ms(targetP99), verdict(ol.latency.P99 <= targetP99 && ol.ok > 0))
	fc := r.fewClients
	row(fmt.Sprintf("Moderate load: %d closed-loop clients", fc.clients),
		fc.summary(), "p99 ≤ "+ms(targetP99), verdict(fc.latency.P99 <= targetP99 && fc.ok > 0))
	bk := r.bulk
	if bk.missing != "" {
		row("Bulk: submitTransactions, items/s ÷ floor commits/s", bk.summary(), "≥ "+times(targetBulkRatio), nil)
	} else {
		bulkRatio := bk.throughput / f.tps
		row("Bulk: submitTransactions, items/s ÷ floor commits/s", times(bulkRatio)+" · "+bk.summary(),
			"≥ "+times(targetBulkRatio), verdict(bulkRatio >= targetBulkRatio))
	}
	ob := r.outbox
	row(fmt.Sprintf("Outbox: one webhook endpoint (every event type, a receiver in the bench answering 204) vs no sink, %d closed-loop clients, %s each", p.clients, p.measure/2),
		ob.summary(), "(reported)", nil)
	row("↳ CPU per submission, no sink", ob.without.cpuSummary(), "", nil)
	row("↳ CPU per submission, one webhook endpoint (the run, not the drain; the receiver counts as load generator)", ob.with.cpuSummary(), "", nil)
	row(fmt.Sprintf("End to end after %s history rows (+ detections, COPY in %s)", thousands(float64(r.historyRows)), r.historyLoad.Round(time.Second)),
		r.large.summary(), "", nil)
	growth := r.large.throughput / r.small.throughput
	row("↳ ÷ small history", times(growth), "≥ "+times(targetHistoryRatio), verdict(growth >= targetHistoryRatio))
	row("↳ CPU per submission, after history", r.large.cpuSummary(), "", nil)
	row(stagesMeasure+", after history", r.large.stages.summary(), "", nil)
	hotPath := r.large.hotPathCPU()
	share := r.entity.share(hotPath)
	row(fmt.Sprintf("↳ entity features (issue 17): the feature statement before → after them, %s payments of this database read with each, "+
		"taking turns on one connection (BenchmarkFeatureReadEntityCost); their cost against the after-history CPU per submission", thousands(float64(r.entity.reads))),
		r.entity.summary(hotPath), fmt.Sprintf("≤ %.0f %% of the hot path", 100*targetEntityShare), verdict(hotPath > r.entity.added() && share <= targetEntityShare))
	for _, e := range r.engine {
		target, ok := "", (*bool)(nil)
		if e.name == "50 rules" {
			target = fmt.Sprintf("≤ %d ns · ≤ %d allocs", targetEngineNs, targetEngineAllocs)
			ok = verdict(e.nsPerOp <= targetEngineNs && e.allocsPerOp <= targetEngineAllocs)
		}
		row("Engine: score with "+e.name+" (go test -bench)", fmt.Sprintf("%s ns/op · %.0f allocs/op", thousands(e.nsPerOp), e.allocsPerOp), target, ok)
	}
	fo := r.fanout
	row(fmt.Sprintf("Alert fan-out: %s websocket subscribers × %d alerts, commit → receipt", thousands(float64(fo.subscribers)), fo.alerts),
		fmt.Sprintf("p50 %s · p99 %s · max %s · delivered %s of %s", ms(fo.p50), ms(fo.p99), ms(fo.max), thousands(float64(fo.delivered)), thousands(float64(fo.expected))),
		"p99 ≤ "+ms(targetFanoutP99), verdict(fo.p99 <= targetFanoutP99 && fo.delivered == fo.expected))
	if r.ingest != nil {
		row(fmt.Sprintf("Ingestion: JetStream consumer → submit pipeline, %s messages, 16 in flight, after history", thousands(float64(r.ingest.messages))),
			r.ingest.summary(r.large), "", nil)
	}
	row("Server peak RSS (VmHWM, whole run)", fmt.Sprintf("%d MB (after the first load run %d MB)", r.rss.peak>>20, r.rssSmall.peak>>20),
		fmt.Sprintf("≤ %d MB", targetRSS>>20), verdict(r.rss.peak <= targetRSS))

	b.WriteString("\nEnd to end counts only submissions answered without GraphQL errors; latency percentiles cover every request. " +
		"Fan-out is timed from the submit's HTTP response (its commit is earlier); the floor is the same rows in one statement per commit with synchronous_commit on. " +
		"Seed 004 scores inside PostgreSQL (no HTTP, GraphQL or auth), run as its README says on a database of its own; " +
		"the moderate-load, bulk, outbox and fan-out runs follow the small-history run, before the history load. " +
		"Outbox events are only written while a sink exists: the bench removes the NATS sink the server registers (it has NATS_URL for the ingestion phase), so every other row runs without one.\n")
	return b.String()
}

// loadAverage is the machine's 1-minute load average, as /proc/loadavg has it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(b), " ")
	return first
}

func (r *loadResult) summary() string {
	errs := fmt.Sprintf("errors %d of %s", r.errorCount(), thousands(float64(r.requests)))
	if len(r.errors) > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.errors)) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, r.errors[k]))
		}
		errs += " (" + strings.Join(kinds, ", ") + ")"
	}
	return fmt.Sprintf("%s req/s · p50 %s · p95 %s · p99 %s · %s · MEDIUM/HIGH %.1f%% · %d velocity bursts",
		thousands(r.throughput), ms(r.latency.P50), ms(r.latency.P95), ms(r.latency.P99), errs, 100*r.riskyShare(), r.bursts)
}

// stagesMeasure names the stage rows and the histograms they read.
const stagesMeasure = "↳ feature read and scoring per submission (" + featureReadMetric + ", " + scoreMetric + "; a group's one read divided by its members)"

// hotPathCPU is the server's and PostgreSQL's CPU per successful submission, in µs.
func (r *loadResult) hotPathCPU() float64 {
	if r.ok == 0 {
		return 0
	}
	return float64(r.cpu.server+r.cpu.db) / float64(time.Microsecond) / float64(r.ok)
}

// cpuSummary splits the window's CPU time per successful submission.
func (r *loadResult) cpuSummary() string {
	u := r.cpu
	misses := "–"
	if r.ok > 0 {
		misses = fmt.Sprintf("%.2f", float64(u.blocksRead)/float64(r.ok))
	}
	return fmt.Sprintf("server %s ms · PostgreSQL backends %s ms · load generator %s ms · %s shared-buffer misses · cores busy %s (server %s, PostgreSQL %s, other processes %s)",
		perRequest(u.server, r.ok), perRequest(u.db, r.ok), perRequest(u.bench, r.ok), misses, u.busy(u.machineAll), u.busy(u.server), u.busy(u.db), u.busy(u.other()))
}

func verdict(ok bool) *bool { return &ok }

// times formats a ratio as a multiple: 0.29×.
func times(r float64) string { return fmt.Sprintf("%.2f×", r) }

// thousands formats a number with thousands separators and no decimals.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
