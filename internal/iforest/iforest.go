// Package iforest is an isolation forest (Liu, Ting and Zhou, "Isolation
// Forest", ICDM 2008): each tree isolates points of a random subsample by
// random axis-parallel splits; anomalies, being few and different, are
// isolated in fewer splits, so a short average path means an anomaly.
//
// It is written here because no isolation forest module is available from
// the Go module proxy this project builds with, and the algorithm is small.
// Training is deterministic for a seed; a trained Forest is immutable, safe
// for concurrent scoring and allocation-free to score.
package iforest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults from the paper: path lengths converge with about 100 trees, and a
// subsample of 256 is enough for isolation while keeping swamping and masking low.
const (
	DefaultTrees      = 100
	DefaultSampleSize = 256
)

// eulerGamma is the Euler–Mascheroni constant, for the harmonic-number estimate in C.
const eulerGamma = 0.5772156649015329

// Options tune training; zero values take the defaults.
type Options struct {
	Trees      int
	SampleSize int
	Seed       uint64
}

// Node is one node of a tree, stored flat. A leaf has Feature -1, Size, the
// number of training points that reached it, and Split set to C(Size), so
// scoring takes no logarithm; an inner node sends x to Left when
// x[Feature] < Split, else to Right.
type Node struct {
	Feature     int32
	Left, Right int32
	Size        int32
	Split       float64
}

// Tree is one isolation tree; Nodes[0] is its root.
type Tree struct {
	Nodes []Node
}

// Forest is a trained isolation forest.
type Forest struct {
	// Dims is the length of the vectors it scores.
	Dims int
	// SampleSize is ψ, the subsample each tree was grown on (at most the rows trained on).
	SampleSize int
	Trees      []Tree
}

// Train grows a forest on rows, each of the same length. Rows are not
// modified.
func Train(rows [][]float64, o Options) (*Forest, error) {
	if len(rows) < 2 {
		return nil, errors.New("iforest: at least 2 rows are needed")
	}
	dims := len(rows[0])
	if dims == 0 {
		return nil, errors.New("iforest: rows have no columns")
	}
	for _, r := range rows {
		if len(r) != dims {
			return nil, errors.New("iforest: rows differ in length")
		}
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.New("iforest: rows hold a non-finite value")
			}
		}
	}
	if o.Trees <= 0 {
		o.Trees = DefaultTrees
	}
	if o.SampleSize <= 0 {
		o.SampleSize = DefaultSampleSize
	}
	if o.SampleSize < 2 {
		return nil, errors.New("iforest: a subsample of at least 2 is needed")
	}
	psi := min(o.SampleSize, len(rows))
	// Trees stop at the average path length of a tree of ψ points: deeper
	// splits only separate normal points, which the score does not need.
	limit := int(math.Ceil(math.Log2(float64(psi))))
	rng := rand.New(rand.NewPCG(o.Seed, 0x69666f72657374)) // "iforest"
	f := &Forest{Dims: dims, SampleSize: psi, Trees: make([]Tree, o.Trees)}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	for t := range f.Trees {
		// A partial Fisher–Yates shuffle draws ψ rows without replacement.
		for i := range psi {
			j := i + rng.IntN(len(idx)-i)
			idx[i], idx[j] = idx[j], idx[i]
		}
		sample := make([]int, psi)
		copy(sample, idx[:psi])
		g := grower{rows: rows, rng: rng, limit: limit}
		g.grow(sample, 0)
		f.Trees[t] = Tree{Nodes: g.nodes}
	}
	return f, nil
}

type grower struct {
	rows  [][]float64
	rng   *rand.Rand
	limit int
	nodes []Node
}

// grow adds the subtree for the points in sample at depth and returns its index.
func (g *grower) grow(sample []int, depth int) int32 {
	at := int32(len(g.nodes))
	g.nodes = append(g.nodes, leaf(int32(len(sample))))
	if depth >= g.limit || len(sample) <= 1 {
		return at
	}
	// Pick a random feature among those that still vary in this node; a
	// point set constant on every feature cannot be split further.
	dims := len(g.rows[0])
	start := g.rng.IntN(dims)
	for k := range dims {
		q := (start + k) % dims
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, i := range sample {
			v := g.rows[i][q]
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if !(hi > lo) {
			continue
		}
		split := lo + g.rng.Float64()*(hi-lo)
		if split <= lo { // Float64 may return 0; keep both sides non-empty
			split = math.Nextafter(lo, hi)
		}
		// Partition in place: those below split first.
		n := 0
		for j, i := range sample {
			if g.rows[i][q] < split {
				sample[n], sample[j] = sample[j], sample[n]
				n++
			}
		}
		left := g.grow(sample[:n], depth+1)
		right := g.grow(sample[n:], depth+1)
		g.nodes[at] = Node{Feature: int32(q), Left: left, Right: right, Split: split}
		return at
	}
	return at
}

func leaf(size int32) Node {
	return Node{Feature: -1, Left: -1, Right: -1, Size: size, Split: C(int(size))}
}

// C is c(n), the average path length of an unsuccessful search in a binary
// search tree of n points: the normaliser of path lengths.
func C(n int) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	h := math.Log(float64(n-1)) + eulerGamma
	return 2*h - 2*float64(n-1)/float64(n)
}

// Score is s(x, ψ) = 2^(−E[h(x)]/c(ψ)) in (0, 1]: near 1 an anomaly, around
// 0.5 or below a normal point. x must have Dims values.
func (f *Forest) Score(x []float64) float64 {
	var total float64
	for t := range f.Trees {
		total += f.Trees[t].pathLength(x)
	}
	mean := total / float64(len(f.Trees))
	return math.Exp2(-mean / C(f.SampleSize))
}

// pathLength is h(x): the edges from the root to x's leaf, plus c(size) for
// the points a depth-limited leaf left unseparated.
func (t *Tree) pathLength(x []float64) float64 {
	i, depth := int32(0), 0
	for {
		n := &t.Nodes[i]
		if n.Feature < 0 {
			return float64(depth) + n.Split // C(n.Size)
		}
		if x[n.Feature] < n.Split {
			i = n.Left
		} else {
			i = n.Right
		}
		depth++
	}
}

// Validate checks a forest read from storage, so scoring it cannot index out
// of range or loop: every child comes after its parent.
func (f *Forest) Validate() error {
	if f.Dims <= 0 || f.SampleSize < 2 || len(f.Trees) == 0 {
		return fmt.Errorf("iforest: %d dims, sample size %d, %d trees", f.Dims, f.SampleSize, len(f.Trees))
	}
	for t, tree := range f.Trees {
		if len(tree.Nodes) == 0 {
			return fmt.Errorf("iforest: tree %d is empty", t)
		}
		for i, n := range tree.Nodes {
			if n.Feature < 0 {
				if n.Size < 0 || n.Split != C(int(n.Size)) {
					return fmt.Errorf("iforest: tree %d leaf %d is malformed", t, i)
				}
				continue
			}
			if int(n.Feature) >= f.Dims || n.Left <= int32(i) || n.Right <= int32(i) ||
				int(n.Left) >= len(tree.Nodes) || int(n.Right) >= len(tree.Nodes) || math.IsNaN(n.Split) {
				return fmt.Errorf("iforest: tree %d node %d is malformed", t, i)
			}
		}
	}
	return nil
}
