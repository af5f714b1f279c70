package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeArchitecture: the README's Architecture section names every
// package under internal/ and cmd/, so it matches the packages that exist.
func TestReadmeArchitecture(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Architecture\n")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, dir := range []string{"internal", "cmd"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			named := regexp.MustCompile(`\b` + regexp.QuoteMeta(e.Name()) + `\b`)
			if e.IsDir() && e.Name() != "internal" && !named.MatchString(section) {
				t.Errorf("README Architecture does not name %s/%s", dir, e.Name())
			}
		}
	}
}
