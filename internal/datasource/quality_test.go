package datasource_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// day is 2026-11-(n) at 00:00 UTC.
func day(n int) time.Time { return time.Date(2026, 11, n, 0, 0, 0, 0, time.UTC) }

func TestQuality(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.create("A feed", `{}`)
	b := e.create("B feed", `{}`)
	c := e.create("C quiet", `{}`)
	var device int64
	e.scan(&device, `INSERT INTO devices (fingerprint, first_seen_at, last_seen_at) VALUES ('fp', now(), now()) RETURNING id`)

	// complete inserts n transactions with every optional field, one a minute from start.
	complete := func(sourceID int64, start time.Time, n int) {
		t.Helper()
		_, err := e.db.NewRaw(`INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at,
				source_id, device_id, ip_address, latitude, longitude, merchant_id)
			SELECT ?0, 1, 'CNY', 'APPROVED', ?0, ?1::timestamptz + i * interval '1 minute', ?2, ?3, '10.1.1.1', 31.2, 121.5, 'm-1'
			FROM generate_series(0, ?4 - 1) AS i`, e.admin.UserID, start, sourceID, device, n).Exec(ctx)
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	// Seven ordinary days, a spike on the 8th and, for B, a drop on the 9th.
	aCounts := []int{100, 103, 97, 100, 102, 98, 100, 400, 100}
	bCounts := []int{10, 10, 10, 10, 10, 10, 10, 10, 4}
	for i := range aCounts {
		complete(a.ID, day(i+1), aCounts[i])
		complete(b.ID, day(i+1), bCounts[i])
	}
	// On the 10th, four transactions without a source, missing fields.
	for _, row := range []string{
		`?2, '10.1.1.1', 31.2, 'm-1'`, // complete
		`NULL, '10.1.1.1', 31.2, 'm-1'`,
		`?2, NULL, NULL, 'm-1'`,
		`NULL, NULL, NULL, NULL`,
	} {
		_, err := e.db.NewRaw(`INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at,
				device_id, ip_address, latitude, merchant_id)
			VALUES (?0, 1, 'CNY', 'APPROVED', ?0, ?1, `+row+`)`, e.admin.UserID, day(10).Add(12*time.Hour), device).Exec(ctx)
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}

	baselineSD := math.Sqrt(26.0 / 7) // of 100, 103, 97, 100, 102, 98, 100 (and of the same plus 10)
	volume := func(first int, counts ...int) []domain.DayVolume {
		out := make([]domain.DayVolume, len(counts))
		for i, n := range counts {
			out[i] = domain.DayVolume{Day: day(first + i), Count: n}
		}
		return out
	}
	complete9 := func(total int) domain.Completeness { return domain.Completeness{Total: total, Score: 1} }
	age := func(newest time.Time) float64 { return clock.Sub(newest).Seconds() }
	aNewest := day(9).Add(99 * time.Minute)
	bNewest := day(9).Add(3 * time.Minute)
	noneNewest := day(10).Add(12 * time.Hour)
	freshA := freshness{&a.ID, "A feed", &aNewest}
	freshB := freshness{&b.ID, "B feed", &bNewest}
	allFresh := []freshness{freshA, freshB, {&c.ID, "C quiet", nil}, {nil, "(none)", &noneNewest}}

	tests := []struct {
		name         string
		sourceID     *int64
		from, to     time.Time
		completeness domain.Completeness
		volume       []domain.DayVolume
		anomalies    []domain.VolumeAnomaly
		freshness    []freshness
	}{
		{"all sources, nine days", nil, day(1), day(10), complete9(1284),
			volume(1, 110, 113, 107, 110, 112, 108, 110, 410, 104),
			[]domain.VolumeAnomaly{{Day: day(8), Count: 410, Mean: 110, StdDev: baselineSD, ZScore: 300 / baselineSD, Direction: "SPIKE"}},
			allFresh},
		{"the spike day alone takes its baseline from before the range", nil, day(8), day(9), complete9(410),
			volume(8, 410),
			[]domain.VolumeAnomaly{{Day: day(8), Count: 410, Mean: 110, StdDev: baselineSD, ZScore: 300 / baselineSD, Direction: "SPIKE"}},
			allFresh},
		{"one source", &a.ID, day(1), day(10), complete9(1200),
			volume(1, aCounts...),
			[]domain.VolumeAnomaly{{Day: day(8), Count: 400, Mean: 100, StdDev: baselineSD, ZScore: 300 / baselineSD, Direction: "SPIKE"}},
			[]freshness{freshA}},
		{"a flat baseline floors σ at 1", &b.ID, day(1), day(10), complete9(84),
			volume(1, bCounts...),
			[]domain.VolumeAnomaly{{Day: day(9), Count: 4, Mean: 10, StdDev: 1, ZScore: -6, Direction: "DROP"}},
			[]freshness{freshB}},
		// Noon to noon: both days are partial, so neither is judged.
		{"partial days", nil, day(8).Add(12 * time.Hour), day(9).Add(12 * time.Hour), complete9(104),
			volume(8, 0, 104), nil, allFresh},
		{"missing fields", nil, day(10), day(11),
			domain.Completeness{Total: 4, MissingDevice: 2, MissingIP: 2, MissingLocation: 2, MissingMerchant: 1, Score: 9.0 / 16},
			volume(10, 4), nil, allFresh},
		{"nothing in range", nil, day(20), day(21), complete9(0), volume(20, 0), nil, allFresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := e.svc.Quality(ctx, tt.sourceID, tt.from, tt.to)
			if err != nil {
				t.Fatalf("Quality: %v", err)
			}
			if q.SourceID != tt.sourceID || !q.From.Equal(tt.from) || !q.To.Equal(tt.to) {
				t.Errorf("got source %v [%v, %v); want %v [%v, %v)", q.SourceID, q.From, q.To, tt.sourceID, tt.from, tt.to)
			}
			if *q.Completeness != tt.completeness {
				t.Errorf("completeness: got %+v; want %+v", *q.Completeness, tt.completeness)
			}
			if len(q.Volume) != len(tt.volume) {
				t.Fatalf("volume: got %d days; want %d", len(q.Volume), len(tt.volume))
			}
			for i, v := range q.Volume {
				if !v.Day.Equal(tt.volume[i].Day) || v.Count != tt.volume[i].Count {
					t.Errorf("volume %d: got %v %d; want %v %d", i, v.Day, v.Count, tt.volume[i].Day, tt.volume[i].Count)
				}
			}
			if len(q.Anomalies) != len(tt.anomalies) {
				t.Fatalf("anomalies: got %d; want %d", len(q.Anomalies), len(tt.anomalies))
			}
			for i, a := range q.Anomalies {
				w := tt.anomalies[i]
				if !a.Day.Equal(w.Day) || a.Count != w.Count || a.Mean != w.Mean || a.StdDev != w.StdDev || a.ZScore != w.ZScore || a.Direction != w.Direction {
					t.Errorf("anomaly %d: got %+v; want %+v", i, *a, w)
				}
			}
			if len(q.Freshness) != len(tt.freshness) {
				t.Fatalf("freshness: got %d sources; want %d", len(q.Freshness), len(tt.freshness))
			}
			for i, f := range q.Freshness {
				tt.freshness[i].check(t, f, age)
			}
		})
	}

	for _, tt := range []struct {
		name     string
		sourceID *int64
		from, to time.Time
		code     apperr.Code
	}{
		{"reversed", nil, day(2), day(1), apperr.BadInput},
		{"over 366 days", nil, day(1), day(1).AddDate(0, 0, 367), apperr.BadInput},
		{"unknown source", new(int64), day(1), day(2), apperr.NotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.Quality(ctx, tt.sourceID, tt.from, tt.to); apperr.CodeOf(err) != tt.code {
				t.Errorf("got %v; want %s", err, tt.code)
			}
		})
	}
}

type freshness struct {
	sourceID *int64
	name     string
	newest   *time.Time
}

func (w freshness) check(t *testing.T, got *domain.SourceFreshness, age func(time.Time) float64) {
	t.Helper()
	if (got.SourceID == nil) != (w.sourceID == nil) || (w.sourceID != nil && *got.SourceID != *w.sourceID) || got.SourceName != w.name {
		t.Errorf("freshness: got source %v %q; want %v %q", got.SourceID, got.SourceName, w.sourceID, w.name)
	}
	switch {
	case w.newest == nil && (got.NewestAt != nil || got.AgeSeconds != nil):
		t.Errorf("%s: got newest %v age %v; want none", w.name, got.NewestAt, got.AgeSeconds)
	case w.newest != nil && (got.NewestAt == nil || !got.NewestAt.Equal(*w.newest) || got.AgeSeconds == nil || *got.AgeSeconds != age(*w.newest)):
		t.Errorf("%s: got newest %v age %v; want %v age %v", w.name, got.NewestAt, got.AgeSeconds, *w.newest, age(*w.newest))
	}
}
