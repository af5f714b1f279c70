package iforest

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// population is n points from a correlated 4-dimensional Gaussian cloud.
func population(n int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([][]float64, n)
	for i := range rows {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		rows[i] = []float64{a, a + 0.3*b, 2 * b, rng.NormFloat64()}
	}
	return rows
}

// A planted outlier outranks more than 99 % of the population it was
// trained with: exactly 4,981 of its 5,000 points for these seeds (the rest
// are the cloud's own tail, as far out as the outlier).
func TestPlantedOutlierRanksAbovePopulation(t *testing.T) {
	rows := population(5000, 7)
	// A payment-like outlier: far out on two axes at once (4σ), ordinary on the rest.
	outlier := []float64{4, 4, 0, 0}
	f, err := Train(append(rows, outlier), Options{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	so := f.Score(outlier)
	below := 0
	for _, r := range rows {
		if f.Score(r) < so {
			below++
		}
	}
	if below != 4981 || float64(below) <= 0.99*float64(len(rows)) {
		t.Fatalf("outlier score %.4f outranks %d of %d points, want 4981 (over 99 %%)", so, below, len(rows))
	}
	if so < 0.6 {
		t.Fatalf("outlier score %.4f, want at least 0.6", so)
	}
	if med := f.Score([]float64{0, 0, 0, 0}); med > 0.5 {
		t.Fatalf("centre scores %.4f, want at most 0.5", med)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	rows := population(1000, 3)
	a, err := Train(rows, Options{Seed: 9, Trees: 20})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(rows, Options{Seed: 9, Trees: 20})
	c, _ := Train(rows, Options{Seed: 10, Trees: 20})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed grew different forests")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds grew the same forest")
	}
	if a.SampleSize != DefaultSampleSize || len(a.Trees) != 20 || a.Dims != 4 {
		t.Fatalf("shape: ψ %d, %d trees, %d dims", a.SampleSize, len(a.Trees), a.Dims)
	}
}

func TestC(t *testing.T) {
	for n, want := range map[int]float64{0: 0, 1: 0, 2: 1, 256: 10.244770920116851} {
		if got := C(n); math.Abs(got-want) > 1e-9 {
			t.Errorf("c(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestTrainRefusesBadInput(t *testing.T) {
	for name, rows := range map[string][][]float64{
		"one row":  {{1}},
		"ragged":   {{1, 2}, {1}},
		"NaN":      {{1}, {math.NaN()}},
		"no dims":  {{}, {}},
		"infinite": {{1}, {math.Inf(1)}},
	} {
		if _, err := Train(rows, Options{}); err == nil {
			t.Errorf("%s: trained", name)
		}
	}
	if _, err := Train([][]float64{{1}, {2}}, Options{SampleSize: 1}); err == nil {
		t.Error("a subsample of 1 trained")
	}
	// Constant data trains: every tree is one leaf, every point scores alike.
	f, err := Train([][]float64{{1, 1}, {1, 1}, {1, 1}}, Options{Trees: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Score([]float64{5, 5}); s != f.Score([]float64{1, 1}) {
		t.Fatalf("constant forest scores differ: %v", s)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	f, err := Train(population(2000, 5), Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var g Forest
	if err := g.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, &g) {
		t.Fatal("round trip changed the forest")
	}
	t.Logf("encoded: %d bytes", len(b))
	// Truncations and a flipped child index are refused, never a panic.
	for n := 0; n < len(b); n += 1 + n/16 {
		if err := new(Forest).UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decoded", n)
		}
	}
	bad := *f
	bad.Trees = append([]Tree{{Nodes: []Node{{Feature: 0, Left: 0, Right: 0}}}}, f.Trees[1:]...)
	if raw, _ := bad.MarshalBinary(); new(Forest).UnmarshalBinary(raw) == nil {
		t.Fatal("a tree whose node points at itself decoded")
	}
}

func BenchmarkScore(b *testing.B) {
	f, err := Train(population(5000, 2), Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	x := []float64{0.1, 0.2, -0.3, 1}
	for b.Loop() {
		f.Score(x)
	}
}
