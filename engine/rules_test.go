package engine

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/expr-lang/expr/vm"
)

func compileBuiltin(t testing.TB) *RuleSet {
	t.Helper()
	rules := BuiltinRules()
	for i := range rules {
		rules[i].ID = int64(i + 1)
	}
	rs, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile(BuiltinRules()): got %v; want no error", err)
	}
	return rs
}

func matchNames(ms []Match) []string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

func TestBuiltinRules(t *testing.T) {
	rs := compileBuiltin(t)
	travel := func(distanceKm, speedKmh float64) GeoFeatures {
		return GeoFeatures{Present: true, HasPrevious: true, DistanceKm: distanceKm, SpeedKmh: speedKmh}
	}
	tests := []struct {
		name string
		f    Features
		want []string
	}{
		{"nothing", Features{Amount: 10}, nil},
		{"amount just below", Features{Amount: 9999.99}, nil},
		{"amount at threshold", Features{Amount: 10000}, []string{"large amount"}},
		{"4 in 10 minutes", Features{User: UserFeatures{TxCount10m: 4}}, nil},
		{"5 in 10 minutes", Features{User: UserFeatures{TxCount10m: 5}}, []string{"high velocity"}},
		{"normal device", Features{Device: DeviceFeatures{Present: true, Status: "NORMAL"}}, nil},
		{"abnormal device", Features{Device: DeviceFeatures{Present: true, Status: "ABNORMAL"}}, []string{"abnormal device"}},
		{"blacklisted device", Features{Device: DeviceFeatures{Present: true, Status: "BLACKLISTED"}}, []string{"blacklisted device"}},
		{"speed 799", Features{Geo: travel(5000, 799)}, nil},
		{"speed 801", Features{Geo: travel(5000, 801)}, []string{"impossible travel"}},
		{"100 km, too fast", Features{Geo: travel(100, 5000)}, nil},
		{"100.1 km, too fast", Features{Geo: travel(100.1, 5000)}, []string{"impossible travel"}},
		{"no previous location", Features{Geo: GeoFeatures{Present: true, DistanceKm: 5000, SpeedKmh: 5000}}, nil},
		{"all, in priority order", Features{
			Amount: 20000,
			User:   UserFeatures{TxCount10m: 9},
			Device: DeviceFeatures{Present: true, Status: "BLACKLISTED"},
			Geo:    travel(8000, 4000),
		}, []string{"blacklisted device", "large amount", "impossible travel", "high velocity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchNames(rs.Evaluate(&tt.f)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func TestBuiltinRulesShape(t *testing.T) {
	want := map[string]struct {
		cond   string
		score  int
		typ    string
		action Action
	}{
		"large amount":       {`amount >= 10000`, 50, "AMOUNT", ActionScore},
		"high velocity":      {`user.txCount10m >= 5`, 30, "VELOCITY", ActionScore},
		"abnormal device":    {`device.status == "ABNORMAL"`, 20, "DEVICE", ActionScore},
		"impossible travel":  {`geo.hasPrevious && geo.distanceKm > 100 && geo.speedKmh > 800`, 40, "GEO", ActionScore},
		"blacklisted device": {`device.status == "BLACKLISTED"`, 100, "BLACKLIST", ActionReject},
	}
	rules := BuiltinRules()
	if len(rules) != len(want) {
		t.Fatalf("got %d rules; want %d", len(rules), len(want))
	}
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			w, ok := want[r.Name]
			if !ok {
				t.Fatalf("got unexpected rule %q", r.Name)
			}
			if r.Condition != w.cond || r.Score != w.score || r.Type != w.typ || r.Action != w.action || r.Description == "" {
				t.Errorf("got %q %d %s %s %q; want %q %d %s %s and a description",
					r.Condition, r.Score, r.Type, r.Action, r.Description, w.cond, w.score, w.typ, w.action)
			}
			if r.Type != "BLACKLIST" && r.Priority >= rules[0].Priority {
				t.Errorf("got priority %d; want below the blacklist's %d", r.Priority, rules[0].Priority)
			}
		})
	}
}

func TestCompileCondition(t *testing.T) {
	tests := []struct {
		name    string
		cond    string
		wantErr string // substring; "" means success
		want    string // String() on success
	}{
		{"expression", "amount >= 10000 && user.txCount10m >= 5", "", "amount >= 10000 && user.txCount10m >= 5"},
		{"surrounding space", "  amount > 1\n", "", "amount > 1"},
		{"JSON document", `{"amount": {"$gt": 10000}}`, "", "amount > 10000"},
		{"list membership", `merchant in user.topMerchants || hour in [0, 1]`, "", `merchant in user.topMerchants || hour in [0, 1]`},
		{"empty", "  ", "condition is empty", ""},
		{"too long", "amount > " + strings.Repeat("1", MaxConditionLen), "at most 4096", ""},
		{"syntax error", "amount >", "invalid condition: unexpected token EOF (1:8)", ""},
		{"unknown field", "user.nope > 1", "invalid condition: type engine.UserFeatures has no field nope", ""},
		{"unknown name", "balance > 1", "unknown name balance", ""},
		{"number, not bool", "amount * 2", "must be a true/false test: expected bool, but got float64", ""},
		{"string, not bool", "merchant", "expected bool, but got string", ""},
		{"nil, not bool", "nil", "expected bool, but got unknown", ""},
		{"type mismatch", `amount == "big"`, "invalid condition", ""},
		{"clock is not readable", "now().Hour() > 1", "unknown name now", ""},
		{"hidden time field", "device.firstSeen != nil", "has no field firstSeen", ""},
		{"fails whatever the data", "user.topMerchants[3] == merchant", "fails on minimal features: index out of range", ""},
		{"counts are at least 1", "user.txCount7d % user.txCount10m == 0", "", "user.txCount7d % user.txCount10m == 0"},
		{"bad JSON", `{"amount": }`, "invalid JSON condition", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CompileCondition(tt.cond)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			if got := c.String(); got != tt.want {
				t.Errorf("got String() %q; want %q", got, tt.want)
			}
		})
	}
}

func TestConditionEval(t *testing.T) {
	c, err := CompileCondition(`merchant in user.topMerchants && !device.new`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    Features
		want bool
	}{
		{"known merchant, known device", Features{Merchant: "m1", User: UserFeatures{TopMerchants: []string{"m0", "m1"}}}, true},
		{"known merchant, new device", Features{Merchant: "m1", User: UserFeatures{TopMerchants: []string{"m1"}}, Device: DeviceFeatures{New: true}}, false},
		{"unknown merchant", Features{Merchant: "m2", User: UserFeatures{TopMerchants: []string{"m1"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Eval(&tt.f)
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	ok := Rule{ID: 1, Name: "ok", Condition: "amount > 1", Score: 10}
	with := func(edit func(*Rule)) Rule {
		r := ok
		edit(&r)
		return r
	}
	tests := []struct {
		name    string
		rules   []Rule
		wantErr string
	}{
		{"none", nil, ""},
		{"empty action means SCORE", []Rule{ok}, ""},
		{"bad condition names the rule", []Rule{ok, {ID: 7, Name: "broken", Condition: "amount >"}}, `rule 7 "broken": invalid condition`},
		{"score above 100", []Rule{with(func(r *Rule) { r.Score = 101 })}, `rule 1 "ok": score 101 is outside -100..100`},
		{"score below -100", []Rule{with(func(r *Rule) { r.Score = -101 })}, "score -101 is outside -100..100"},
		{"unknown action", []Rule{with(func(r *Rule) { r.Action = "BLOCK" })}, `unknown action "BLOCK"`},
		{"no name", []Rule{with(func(r *Rule) { r.Name = " " })}, "name is required"},
		{"duplicate ID", []Rule{ok, ok}, "duplicate rule ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.rules)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v; want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRuleSetOrder(t *testing.T) {
	rs, err := Compile([]Rule{
		{ID: 3, Name: "c", Condition: "true", Priority: 1},
		{ID: 2, Name: "b", Condition: "true", Priority: 5},
		{ID: 1, Name: "a", Condition: "true", Priority: 1, Description: "first of the ties"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rs.Rules() {
		ids = append(ids, r.ID)
	}
	if want := []int64{2, 1, 3}; !slices.Equal(ids, want) {
		t.Errorf("Rules(): got IDs %v; want %v", ids, want)
	}
	m := rs.Evaluate(&Features{})
	if got := matchNames(m); !slices.Equal(got, []string{"b", "a", "c"}) {
		t.Errorf("Evaluate: got %v; want [b a c]", got)
	}
	if m[1].Reason != "first of the ties" || m[0].Reason != "b" || m[0].Action != ActionScore {
		t.Errorf("got reasons %q %q, action %q; want description, else name, and SCORE", m[1].Reason, m[0].Reason, m[0].Action)
	}
	rs.Rules()[0].Name = "changed"
	if rs.Rules()[0].Name != "b" {
		t.Errorf("Rules() exposes internal state")
	}
}

func TestEvaluateRuleError(t *testing.T) {
	rs, err := Compile([]Rule{
		{ID: 1, Name: "second merchant", Condition: `len(user.topMerchants) > 0 && user.topMerchants[1] == merchant`, Score: 10},
		{ID: 2, Name: "large", Condition: "amount >= 10000", Score: 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := Features{Amount: 10000, Merchant: "m1", User: UserFeatures{TopMerchants: []string{"m1"}}}
	if got := matchNames(rs.Evaluate(&f)); !slices.Equal(got, []string{"large"}) {
		t.Errorf("Evaluate: got %v; want [large]", got)
	}
	res, err := Score(t.Context(), rs, &f, nil, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RuleErrors) != 1 || res.RuleErrors[0].RuleID != 1 || res.RuleScore != 50 {
		t.Errorf("got rule errors %v, rule score %d; want rule 1's error and 50", res.RuleErrors, res.RuleScore)
	}
	var re *RuleError
	if !errors.As(res.RuleErrors[0], &re) || !strings.Contains(re.Error(), `rule 1 "second merchant": index out of range`) {
		t.Errorf("got %v; want a RuleError naming the rule", res.RuleErrors[0])
	}
}

func FuzzCompileCondition(f *testing.F) {
	for _, seed := range []string{
		"amount >= 10000",
		"user.txCount10m >= 5 && device.status == \"ABNORMAL\"",
		"geo.hasPrevious && geo.distanceKm > 100 && geo.speedKmh > 800",
		"merchant in user.topMerchants",
		"hour in 0..5",
		"all(user.topMerchants, # != merchant)",
		"user.txCount24h / user.txCount10m > 1.5 || -amount < user.amount1h * 2",
		`merchant + "x" contains "1x" and not (device.status in ["ABNORMAL", "BLACKLISTED"])`,
		"amount >",
		"((((",
		"\"\\u",
		`{"amount": {"$gt": 10000, "$lt": 1e400}}`,
		`{"time": {"hour": [0, 23]}, "user_features": {"tx_count_24h": 5}}`,
		`{"device": {"new_device": true}`,
	} {
		f.Add(seed)
	}
	samples := append(randomFeatures(8), Features{}, probeFeatures)
	f.Fuzz(func(t *testing.T, cond string) {
		c, err := CompileCondition(cond)
		if err != nil {
			return
		}
		if _, err := CompileCondition(c.String()); err != nil {
			t.Errorf("recompiling %q: got %v; want no error", c.String(), err)
		}
		var v vm.VM
		for i := range samples {
			want, err := c.runVM(&v, samples[i]) // must not panic; errors are fine
			if c.native != nil && err == nil && c.native(&samples[i]) != want {
				t.Errorf("%q on %+v: got native %v; want VM's %v", cond, samples[i], !want, want)
			}
		}
	})
}

func TestRuleSetConcurrent(t *testing.T) {
	rs, err := Compile(fiftyRules())
	if err != nil {
		t.Fatal(err)
	}
	f := benchFeatures()
	want := matchNames(rs.Evaluate(f))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if got := matchNames(rs.Evaluate(f)); !slices.Equal(got, want) {
					t.Errorf("got %v; want %v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
