package anomaly

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/iforest"
)

// typical is an ordinary payment: channel's median amount, a customer of
// some months with a steady rhythm, a known device, daytime.
func typical(rng *rand.Rand, channel string, median float64) *engine.Features {
	amount := median * math.Exp(0.5*rng.NormFloat64())
	avg := median * math.Exp(0.3*rng.NormFloat64())
	f := &engine.Features{Amount: amount, Channel: channel, LocalHour: 9 + rng.IntN(12), MerchantUsers24h: 5 + rng.IntN(40), MerchantAgeDays: 100 + 300*rng.Float64()}
	f.User = engine.UserFeatures{TxCount10m: 1, TxCount1h: 1 + rng.IntN(2), TxCount24h: 1 + rng.IntN(4), Amount24h: amount * (1 + rng.Float64()),
		AmountToAvg30d: amount / avg, AmountToMax30d: amount / (avg * 3), MerchantCount10m: 1, AccountAgeDays: 60 + 600*rng.Float64(),
		DaysSincePrevious: 2 * rng.Float64()}
	f.Device = engine.DeviceFeatures{UserCount: 1, UserCount7d: 1, AgeDays: 30 + 300*rng.Float64(), UserAgeDays: 30 + 300*rng.Float64()}
	f.Geo = engine.GeoFeatures{DistanceKm: 5 * rng.Float64(), SpeedKmh: 3 * rng.Float64()}
	return f
}

// median is a channel's most ordinary payment: typical's every draw at its centre.
func median(channel string, amount float64) *engine.Features {
	f := &engine.Features{Amount: amount, Channel: channel, LocalHour: 15, MerchantUsers24h: 25, MerchantAgeDays: 250}
	f.User = engine.UserFeatures{TxCount10m: 1, TxCount1h: 1, TxCount24h: 2, Amount24h: 1.5 * amount, AmountToAvg30d: 1, AmountToMax30d: 1.0 / 3,
		MerchantCount10m: 1, AccountAgeDays: 360, DaysSincePrevious: 1}
	f.Device = engine.DeviceFeatures{UserCount: 1, UserCount7d: 1, AgeDays: 180, UserAgeDays: 180}
	f.Geo = engine.GeoFeatures{DistanceKm: 2.5, SpeedKmh: 1.5}
	return f
}

// traffic is n payments a channel: POS around 50, APP around 300, WEB around 3,000.
func traffic(n int, seed uint64) []*engine.Features {
	rng := rand.New(rand.NewPCG(seed, 2))
	var rows []*engine.Features
	for range n {
		rows = append(rows, typical(rng, "POS", 50), typical(rng, "APP", 300), typical(rng, "WEB", 3000))
	}
	return rows
}

func options(by domain.AnomalySegmentBy) TrainOptions {
	return TrainOptions{SegmentBy: by, Trees: iforest.DefaultTrees, SampleSize: iforest.DefaultSampleSize, MinSegmentRows: 500, Seed: 1}
}

// An account takeover planted in ordinary traffic — a two-hour-old account
// on a device shared by six, ten payments in ten minutes, at 03:00, far from
// the last place — outranks more than 99 % of the traffic: exactly all
// 6,000 other payments for these seeds.
func TestPlantedOutlierRanksAbovePopulation(t *testing.T) {
	rows := traffic(2000, 3)
	rng := rand.New(rand.NewPCG(99, 2))
	planted := typical(rng, "APP", 300)
	planted.LocalHour, planted.User.AccountAgeDays, planted.User.TxCount10m, planted.User.TxCount1h = 3, 0.08, 10, 10
	planted.User.MerchantCount10m, planted.Device.UserCount, planted.Device.UserCount7d, planted.Device.AgeDays = 6, 6, 6, 0.1
	planted.Geo.DistanceKm, planted.Geo.SpeedKmh = 900, 450
	_, s, err := Fit(append(rows, planted), options(domain.AnomalySegmentChannel))
	if err != nil {
		t.Fatal(err)
	}
	score := s.Score(planted)
	below := 0
	for _, f := range rows {
		if s.Score(f) < score {
			below++
		}
	}
	if below != len(rows) || score <= 0.6 {
		t.Fatalf("planted score %.4f outranks %d of %d, want all of them and a score over 0.6", score, below, len(rows))
	}
}

// Each segment large enough gets a forest of its own, which judges a
// payment by its channel's traffic: 3,000 is the most ordinary payment on
// the web, but not at a till. A channel too small for a forest is scored by the global one, as
// is a payment without a channel.
func TestSegments(t *testing.T) {
	rows := append(traffic(1000, 4), func() []*engine.Features {
		rng := rand.New(rand.NewPCG(5, 2))
		var atm []*engine.Features
		for range 40 {
			atm = append(atm, typical(rng, "ATM", 500))
		}
		return atm
	}()...)
	rec, s, err := Fit(rows, options(domain.AnomalySegmentChannel))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, seg := range rec.Metrics.Segments {
		names = append(names, seg.Name)
		if seg.Rows != 1000 || !(seg.P50 < seg.P99) || seg.P99 >= 1 {
			t.Errorf("segment %+v: want 1000 rows and 0 < p50 < p99 < 1", seg)
		}
	}
	// Equal sizes order by name.
	if want := []string{"app", "pos", "web"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("segments %v, want %v", names, want)
	}
	if g := rec.Metrics.Global; g.Name != "" || g.Rows != 3040 || rec.Metrics.Rows != 3040 {
		t.Fatalf("global %+v, rows %d: want all 3,040", g, rec.Metrics.Rows)
	}
	web := median("WEB", 3000)
	atTill := *web
	atTill.Channel = "pos" // segment values are case-insensitive
	rank := func(x *engine.Features, channel string) int {
		n := 0
		for _, f := range rows {
			if f.Channel == channel && s.Score(f) < s.Score(x) {
				n++
			}
		}
		return n
	}
	// Only two of the inputs (amount, amount24h) tell them apart, so the
	// till's ordinary payments still outrank the one at 3,000 four times in
	// five; on the web it outranks none.
	if rw, rp := rank(web, "WEB"), rank(&atTill, "POS"); rw != 0 || rp != 201 || !(s.Score(&atTill) > s.Score(web)) {
		t.Fatalf("3,000 outranks %d web payments and %d at the till (scores %.4f, %.4f), want 0 and 201", rw, rp, s.Score(web), s.Score(&atTill))
	}
	// ATM and no channel both go to the global forest.
	atm := *web
	atm.Channel = "ATM"
	none := *web
	none.Channel = ""
	if s.Score(&atm) != s.Score(&none) {
		t.Fatalf("ATM %.4f and no channel %.4f: want both from the global forest", s.Score(&atm), s.Score(&none))
	}

	// Unsegmented, 3,000 at a till is one more ordinary amount.
	_, flat, err := Fit(rows, options(domain.AnomalySegmentNone))
	if err != nil {
		t.Fatal(err)
	}
	if flat.Score(&atTill) != flat.Score(web) {
		t.Fatal("without segments the channel changed the score")
	}
}

// A stored model loads back to the same scores; a model naming an unknown
// feature or with damaged forests does not load.
func TestStoredModelRoundTrip(t *testing.T) {
	rows := traffic(700, 8)
	rec, s, err := Fit(rows, options(domain.AnomalySegmentChannel))
	if err != nil {
		t.Fatal(err)
	}
	stored := *rec
	stored.Forests = append([]byte(nil), rec.Forests...)
	loaded, err := Load(&stored)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rows[:300] {
		if a, b := s.Score(f), loaded.Score(f); a != b {
			t.Fatalf("score %v after loading, %v before", b, a)
		}
	}
	unknown := stored
	unknown.FeatureNames = append([]string{"nonsense"}, stored.FeatureNames[1:]...)
	if _, err := Load(&unknown); err == nil {
		t.Fatal("a model with an unknown feature loaded")
	}
	damaged := stored
	damaged.Forests = stored.Forests[:len(stored.Forests)/2]
	if _, err := Load(&damaged); err == nil {
		t.Fatal("a model with damaged forests loaded")
	}
	fewer := stored
	fewer.Metrics.Segments = stored.Metrics.Segments[:1]
	if _, err := Load(&fewer); err == nil {
		t.Fatal("a model with more forests than segments loaded")
	}
	if (*Scorer)(nil).Score(rows[0]) != 0 {
		t.Fatal("no model scored non-zero")
	}
}

func TestTrainOptions(t *testing.T) {
	o, err := TrainOptions{}.normalize(traffic(1, 1)[0].OccurredAt.AddDate(2026, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if o.SegmentBy != DefaultSegmentBy || o.MaxRows != DefaultMaxRows || o.Trees != 100 || o.SampleSize != 256 ||
		o.MinSegmentRows != DefaultMinSegmentRows || o.To.Sub(o.From) != DefaultPeriod {
		t.Fatalf("defaults: %+v", o)
	}
	for field, bad := range map[string]TrainOptions{
		"segmentBy":  {SegmentBy: "CITY"},
		"trees":      {Trees: MaxTrees + 1},
		"sampleSize": {SampleSize: 1},
		"maxRows":    {MaxRows: 10},
		"to":         {From: o.To, To: o.From},
	} {
		if _, err := bad.normalize(o.To); err == nil {
			t.Errorf("%s: accepted %+v", field, bad)
		}
	}
}

// BenchmarkScore is the hot path's cost with an active model: the feature
// transform, the segment lookup and 100 trees.
func BenchmarkScore(b *testing.B) {
	rows := traffic(2000, 9)
	_, s, err := Fit(rows, options(domain.AnomalySegmentChannel))
	if err != nil {
		b.Fatal(err)
	}
	f := rows[1]
	b.ReportAllocs()
	for b.Loop() {
		f.AnomalyScore = s.Score(f)
	}
}
