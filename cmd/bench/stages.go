package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"time"
)

// The submit pipeline's per-submission stage histograms, when the server
// exposes them: the feature read (a group's one statement divided
// by its members) and the scoring in the server.
const (
	featureReadMetric = "riskgraph_submit_feature_read_seconds"
	scoreMetric       = "riskgraph_submit_score_seconds"
)

// stageCost is what one measured window's submissions spent in the feature
// read and in scoring; nil histograms when the server does not expose them.
type stageCost struct {
	read, score *histogram
}

// scrapeStages reads both stage histograms from /metrics.
func scrapeStages(ctx context.Context, url string) (stageCost, error) {
	read, err := scrapeHistogram(ctx, url, featureReadMetric)
	if err != nil {
		return stageCost{}, err
	}
	score, err := scrapeHistogram(ctx, url, scoreMetric)
	return stageCost{read: read, score: score}, err
}

// since is what was observed after before.
func (s stageCost) since(before stageCost) stageCost {
	if s.read == nil || s.score == nil {
		return stageCost{}
	}
	return stageCost{read: s.read.since(before.read), score: s.score.since(before.score)}
}

func (s stageCost) summary() string {
	if s.read == nil || s.score == nil {
		return "not exposed (no " + featureReadMetric + " on /metrics)"
	}
	if s.read.count == 0 {
		return "no submissions observed"
	}
	return fmt.Sprintf("feature read %s · scoring %s · %s submissions",
		s.read.timeSummary(), s.score.timeSummary(), thousands(s.read.count))
}

// timeSummary gives a histogram of seconds as its mean with interpolated p50 and p99.
func (h *histogram) timeSummary() string {
	return fmt.Sprintf("mean %s (p50 ≈ %s, p99 ≈ %s)",
		duration(h.sum/h.count), duration(h.interpolated(0.5)), duration(h.interpolated(0.99)))
}

// duration formats seconds in ms, or µs under a tenth of a millisecond.
func duration(s float64) string {
	if math.IsInf(s, 1) {
		return "+Inf"
	}
	if s < 0.0001 {
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
	return fmt.Sprintf("%.2f ms", s*1e3)
}

// interpolated is quantile q, interpolated linearly inside its bucket as
// PromQL's histogram_quantile does (the first bucket starts at 0; in the
// +Inf bucket, the highest finite bound).
func (h *histogram) interpolated(q float64) float64 {
	rank := q * h.count
	for i, c := range h.counts {
		if c < rank {
			continue
		}
		lower, below := 0.0, 0.0
		if i > 0 {
			lower, below = h.bounds[i-1], h.counts[i-1]
		}
		if math.IsInf(h.bounds[i], 1) {
			return lower
		}
		if c == below {
			return h.bounds[i]
		}
		return lower + (h.bounds[i]-lower)*(rank-below)/(c-below)
	}
	return math.Inf(1)
}

// Issue 17's budget: the entity features may cost the hot path at most 15 %.
const targetEntityShare = 0.15

// entityCost compares the feature statement before issue 17's entity
// features with today's, on the run's own database (BenchmarkFeatureReadEntityCost).
type entityCost struct {
	reads               int
	beforeUs, afterUs   float64 // wall time per read
	beforeCPU, afterCPU float64 // the backend's CPU per read, µs
	cpuMeasured         bool
}

// runEntityCost runs BenchmarkFeatureReadEntityCost with `go test -bench`
// against db, which it only reads.
func runEntityCost(ctx context.Context, p plan, db *benchDB) (*entityCost, error) {
	phase("entity features: the feature statement before and after issue 17, %d reads each on this database", p.entityReads)
	var out []byte
	const bench = "BenchmarkFeatureReadEntityCost"
	err := bounded(ctx, 4*time.Minute, "entity feature benchmark", func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, goTool(), "test", "-run", "^$", "-bench", "^"+bench+"$",
			"-benchtime", fmt.Sprintf("%dx", p.entityReads), "-count", "1", "./internal/store")
		cmd.Env = append(os.Environ(), "FEATURE_BENCH_DATABASE_URL="+db.url)
		var err error
		if out, err = cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m, err := benchMetrics(string(out), bench)
	if err != nil {
		return nil, err
	}
	c := &entityCost{reads: p.entityReads, beforeUs: m["before-µs/read"], afterUs: m["after-µs/read"]}
	c.beforeCPU, c.cpuMeasured = m["before-cpu-µs/read"]
	c.afterCPU = m["after-cpu-µs/read"]
	log.Printf("entity features: read %.0f → %.0f µs, backend CPU %.0f → %.0f µs", c.beforeUs, c.afterUs, c.beforeCPU, c.afterCPU)
	return c, nil
}

// added is what the entity features add per read: backend CPU where it was
// measured, else wall time.
func (c *entityCost) added() float64 {
	if c.cpuMeasured {
		return c.afterCPU - c.beforeCPU
	}
	return c.afterUs - c.beforeUs
}

// share is the added cost against the hot path's CPU per submission without
// it (server and PostgreSQL, in µs): what the features cost the hot path.
func (c *entityCost) share(hotPathUs float64) float64 {
	return c.added() / (hotPathUs - c.added())
}

func (c *entityCost) summary(hotPathUs float64) string {
	read := fmt.Sprintf("feature read %s → %s (%+.0f %%)", duration(c.beforeUs/1e6), duration(c.afterUs/1e6), 100*(c.afterUs/c.beforeUs-1))
	if !c.cpuMeasured {
		return fmt.Sprintf("%s · +%s per submission (wall time: the backend's CPU was not readable) = %+.0f %% of the hot path's CPU per submission without them (%s, server + PostgreSQL)",
			read, duration(c.added()/1e6), 100*c.share(hotPathUs), duration((hotPathUs-c.added())/1e6))
	}
	return fmt.Sprintf("%s · backend CPU %s → %s per read (%+.0f %%) · +%s per submission = %+.0f %% of the hot path's CPU per submission without them (%s, server + PostgreSQL)",
		read, duration(c.beforeCPU/1e6), duration(c.afterCPU/1e6), 100*(c.afterCPU/c.beforeCPU-1),
		duration(c.added()/1e6), 100*c.share(hotPathUs), duration((hotPathUs-c.added())/1e6))
}
