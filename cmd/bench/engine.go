package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// engineResult is one scoring benchmark.
type engineResult struct {
	name        string
	nsPerOp     float64
	allocsPerOp float64
}

// engineBenchmarks are engine/bench_test.go's benchmarks, in table order.
var engineBenchmarks = []struct{ bench, name string }{
	{"BenchmarkScoreBuiltin", "built-in rules"},
	{"BenchmarkScore50Rules", "50 rules"},
}

// runEngine runs the engine's scoring benchmarks with `go test -bench`, before
// anything else runs on the machine.
func runEngine(ctx context.Context, p plan, rep *report) error {
	phase("engine: go test -bench (benchtime %s)", p.benchtime)
	var out []byte
	err := bounded(ctx, 3*time.Minute, "engine benchmarks", func(ctx context.Context) error {
		var names []string
		for _, b := range engineBenchmarks {
			names = append(names, b.bench)
		}
		cmd := exec.CommandContext(ctx, goTool(), "test", "-run", "^$", "-bench", "^("+strings.Join(names, "|")+")$",
			"-benchmem", "-benchtime", p.benchtime, "-count", "1", "./engine")
		var err error
		if out, err = cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range engineBenchmarks {
		r, err := parseBenchLine(string(out), b.bench)
		if err != nil {
			return err
		}
		r.name = b.name
		rep.engine = append(rep.engine, r)
		log.Printf("engine %s: %.0f ns/op, %.0f allocs/op", b.name, r.nsPerOp, r.allocsPerOp)
	}
	return nil
}

// goTool is the go command make runs with ($GO), else go on PATH.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// parseBenchLine reads "BenchmarkX-2  N  654.9 ns/op … 2 allocs/op".
func parseBenchLine(out, bench string) (engineResult, error) {
	m, err := benchMetrics(out, bench)
	if err != nil {
		return engineResult{}, err
	}
	return engineResult{nsPerOp: m["ns/op"], allocsPerOp: m["allocs/op"]}, nil
}

// benchMetrics reads a benchmark's line of `go test -bench` output as its
// values by unit: "BenchmarkX-2  N  654.9 ns/op  12.5 before-µs/read" →
// ns/op 654.9, before-µs/read 12.5.
func benchMetrics(out, bench string) (map[string]float64, error) {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.Split(fields[0], "-")[0] != bench {
			continue
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is no value", bench, fields[i])
			}
			m[fields[i+1]] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s missing from go test output:\n%s", bench, out)
}
