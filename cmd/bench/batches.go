package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// batchMetric is the group commit's histogram of members per database
// transaction, when the server exposes it.
const batchMetric = "riskgraph_submit_batch_size"

// histogram is a cumulative Prometheus histogram: counts by upper bound.
type histogram struct {
	bounds []float64 // ascending; the last is +Inf
	counts []float64 // cumulative
	sum    float64
	count  float64
}

// scrapeHistogram reads one histogram (all label sets summed) from a
// Prometheus text exposition; nil when the server does not expose it.
func scrapeHistogram(ctx context.Context, url, name string) (*histogram, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	h := &histogram{}
	byBound := map[float64]float64{}
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"_") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		switch metric {
		case name + "_bucket":
			_, le, ok := strings.Cut(labels, `le="`)
			if !ok {
				continue
			}
			le, _, _ = strings.Cut(le, `"`)
			bound, err := strconv.ParseFloat(le, 64)
			if err != nil {
				continue
			}
			byBound[bound] += v
			found = true
		case name + "_sum":
			h.sum += v
		case name + "_count":
			h.count += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	for b := range byBound {
		h.bounds = append(h.bounds, b)
	}
	slices.Sort(h.bounds)
	for _, b := range h.bounds {
		h.counts = append(h.counts, byBound[b])
	}
	return h, nil
}

// since is the histogram of what was observed after before (same buckets).
func (h *histogram) since(before *histogram) *histogram {
	if before == nil || len(before.counts) != len(h.counts) {
		return h
	}
	d := &histogram{bounds: h.bounds, sum: h.sum - before.sum, count: h.count - before.count}
	for i := range h.counts {
		d.counts = append(d.counts, h.counts[i]-before.counts[i])
	}
	return d
}

// quantile is the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) float64 {
	rank := q * h.count
	for i, c := range h.counts {
		if c >= rank {
			return h.bounds[i]
		}
	}
	return math.Inf(1)
}

// summary describes the distribution: batches, mean, bucketed quantiles and
// the share of members in each bucket.
func (h *histogram) summary() string {
	if h.count == 0 {
		return "no batches observed"
	}
	bound := func(b float64) string {
		if math.IsInf(b, 1) {
			return "+Inf"
		}
		return strconv.FormatFloat(b, 'f', -1, 64)
	}
	var buckets []string
	prev := 0.0
	for i, c := range h.counts {
		if n := c - prev; n > 0 {
			buckets = append(buckets, fmt.Sprintf("≤%s: %.0f%%", bound(h.bounds[i]), 100*n/h.count))
		}
		prev = c
	}
	return fmt.Sprintf("%s batches · mean %.1f submissions · p50 ≤ %s · p99 ≤ %s · batches by size %s",
		thousands(h.count), h.sum/h.count, bound(h.quantile(0.5)), bound(h.quantile(0.99)), strings.Join(buckets, ", "))
}
