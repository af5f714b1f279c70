package store

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// numericFloat64 gives exactly the float64 pgx's own numeric scan gives.
func TestNumericFloat64MatchesPgx(t *testing.T) {
	values := []string{"0", "1", "-1", "0.1", "12.5", "-0.0001", "10000", "99999.99995", "1234567.891",
		"0.000000000000000000012345", "123456789012345678901234567890.123456789",
		"9007199254740993", "NaN", "Infinity", "-Infinity"}
	for _, f := range []float64{1e300, -1e-300, 2.2250738585072014e-308, math.MaxFloat64, 5e-324} {
		values = append(values, strconv.FormatFloat(f, 'f', -1, 64))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e300 || f != 0 && math.Abs(f) < 1e-300 {
			continue
		}
		values = append(values, strconv.FormatFloat(f, 'f', -1, 64))
		values = append(values, strconv.FormatFloat(rng.Float64()*1e6, 'f', rng.IntN(12), 64))
	}
	m := pgtype.NewMap()
	want := m.PlanScan(pgtype.NumericOID, pgtype.BinaryFormatCode, new(float64))
	for _, v := range values {
		var n pgtype.Numeric
		if err := n.Scan(v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		raw, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, n, nil)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var got, exp float64
		if err := want.Scan(raw, &exp); err != nil {
			t.Fatalf("%s: pgx: %v", v, err)
		}
		if err := (numericFloat64{}).Scan(raw, &got); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if math.Float64bits(got) != math.Float64bits(exp) && !(math.IsNaN(got) && math.IsNaN(exp)) {
			t.Fatalf("%s: got %v, pgx gives %v", v, got, exp)
		}
	}
	if err := (numericFloat64{}).Scan(nil, new(float64)); err == nil {
		t.Fatal("NULL: no error")
	}
}

// BenchmarkNumericFloat64 compares pgx's numeric scan into a float64 with
// numericFloat64, on a sum of amounts as the feature read returns one.
func BenchmarkNumericFloat64(b *testing.B) {
	m := pgtype.NewMap()
	var n pgtype.Numeric
	if err := n.Scan("18234.57"); err != nil {
		b.Fatal(err)
	}
	raw, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, n, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		plan pgtype.ScanPlan
	}{{"pgx", m.PlanScan(pgtype.NumericOID, pgtype.BinaryFormatCode, new(float64))}, {"numericFloat64", numericFloat64{}}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			var f float64
			for b.Loop() {
				if err := bb.plan.Scan(raw, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
