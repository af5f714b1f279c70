package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/engine"
)

// TestReadmeFeatureTable: the README's feature table is the engine's
// FeatureDocs, row for row, so documenting a feature is part of declaring it.
func TestReadmeFeatureTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "| feature | type | meaning |\n|---|---|---|\n")
	if !ok {
		t.Fatal("README.md has no feature table")
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| ([^|]+) \\| (.+) \\|$")
	var got []engine.FeatureDoc
	for line := range strings.Lines(table) {
		m := row.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			break
		}
		got = append(got, engine.FeatureDoc{Name: m[1], Type: strings.ReplaceAll(m[2], `\|`, "|"), Description: m[3]})
	}
	want := engine.FeatureDocs
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("README lacks | `%s` | %s | %s |", want[i].Name, want[i].Type, want[i].Description)
		case i >= len(want):
			t.Errorf("README documents %s, which is no feature", got[i].Name)
		case got[i] != want[i]:
			t.Errorf("README row %d:\n got | `%s` | %s | %s |\nwant | `%s` | %s | %s |", i+1,
				got[i].Name, got[i].Type, got[i].Description, want[i].Name, want[i].Type, want[i].Description)
		}
	}
}
