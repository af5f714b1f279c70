package engine

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
)

// TestGeneralisingPackCompiles: version 2 of the default pack compiles in the engine
// and matches on real feature vectors what the expr check above matched on
// the contract's names.
func TestGeneralisingPackCompiles(t *testing.T) {
	packs := RulePacks()
	def := packs[slices.IndexFunc(packs, func(p RulePack) bool { return p.Name == "default" })]
	sameNames := func(a, b Rule) bool { return a.Name == b.Name }
	if def.Version() != 3 || !slices.EqualFunc(def.Since(2), BaselineRules(), sameNames) ||
		!slices.EqualFunc(def.Since(1), append(GeneralisingRules(), BaselineRules()...), sameNames) {
		t.Fatalf("default pack: version %d, later rules %d; want version 2 adding GeneralisingRules, 3 BaselineRules", def.Version(), len(def.Since(1)))
	}
	rs, err := Compile(GeneralisingRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range generalisingCases {
		raw, err := json.Marshal(caseEnv(t, c.set))
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseSnapshot(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r, err := Score(context.Background(), rs, f, nil, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range r.Matched {
			got = append(got, m.Name)
		}
		slices.SortFunc(got, func(a, b string) int { return ruleIndex(a) - ruleIndex(b) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: matched %q, want %q", c.name, got, c.want)
		}
	}

	// With the seed's pinned impossible-travel rule, a plausible journey scores nothing.
	all, err := Compile(append(BuiltinRules(), GeneralisingRules()...))
	if err != nil {
		t.Fatal(err)
	}
	journey := generalisingCases[slices.IndexFunc(generalisingCases, func(c generalisingCase) bool { return c.name == "real journey" })]
	raw, _ := json.Marshal(caseEnv(t, journey.set))
	f, err := ParseSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := Score(context.Background(), all, f, nil, DefaultConfig()); err != nil || r.Level != LevelLow || len(r.Matched) != 2 {
		t.Fatalf("real journey with the seed rules: %+v (%v), want LOW with impossible travel offset", r, err)
	}
}

func ruleIndex(name string) int {
	return slices.IndexFunc(GeneralisingRules(), func(r Rule) bool { return r.Name == name })
}
