package engine

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
)

// issue17Defaults are issue 17's features (the contract in the README's
// feature table) at their "nothing seen" values.
var issue17Defaults = map[string]any{
	"merchantStats": map[string]any{"payers10m": 0, "payers1h": 0, "newDevices10m": 0, "newDevices1h": 0, "tinyShare1h": 0.0, "payerMedianAgeDays1h": -1.0},
	"ip": map[string]any{"users10m": 0, "users24h": 0, "devices10m": 0, "devices24h": 0,
		"subnetUsers10m": 0, "subnetUsers24h": 0, "subnetDevices10m": 0, "subnetDevices24h": 0},
	"device": map[string]any{"accounts1h": 0, "usual": false},
	"user": map[string]any{"nearLineCount7d": 0, "spend7dToDailyAvg30d": 0.0, "newMerchants24h": 0, "newMerchants72h": 0,
		"spendAcceleration": 0.0, "amountPercentile": -1.0, "hourTypicality": -1.0, "newCategory": false},
	"geo":          map[string]any{"travelBooked": false, "loginNearDestination": false, "plausibleJourney": false},
	"anomalyScore": 0.0,
}

// generalisingCases are feature vectors of issue 17's typologies and their
// benign look-alikes (cmd/simulate), as dotted names over a transaction with
// nothing else remarkable, and the GeneralisingRules each matches.
type generalisingCase struct {
	name string
	set  map[string]any
	want []string
}

var generalisingCases = []generalisingCase{
	{"bust-out merchant, third stolen account", map[string]any{"merchantAgeDays": 0.01, "merchantStats.payers10m": 3, "merchantStats.newDevices10m": 3,
		"merchantStats.payers1h": 3, "merchantStats.newDevices1h": 3}, []string{"merchant burst from new devices"}},
	{"bust-out merchant spread over the hour", map[string]any{"merchantAgeDays": 0.03, "merchantStats.payers10m": 2, "merchantStats.newDevices10m": 2,
		"merchantStats.payers1h": 9, "merchantStats.newDevices1h": 8}, []string{"merchant burst from new devices"}},
	{"charity drive (benign)", map[string]any{"merchantAgeDays": 0.02, "merchantStats.payers10m": 12, "merchantStats.newDevices10m": 1,
		"merchantStats.payers1h": 35, "merchantStats.newDevices1h": 1}, nil},
	{"a shop's first day (benign)", map[string]any{"merchantAgeDays": 0.5, "merchantStats.payers10m": 1, "merchantStats.newDevices10m": 1,
		"merchantStats.payers1h": 2, "merchantStats.newDevices1h": 1}, nil},
	{"bot farm on a /24", map[string]any{"device.present": true, "device.new": true, "device.newToAll7d": true,
		"ip.subnetUsers10m": 4, "ip.subnetUsers24h": 4, "ip.subnetDevices24h": 4}, []string{"new devices swarm one network"}},
	{"campus Wi-Fi (benign)", map[string]any{"device.present": true, "ip.subnetUsers10m": 18, "ip.subnetUsers24h": 30, "ip.subnetDevices24h": 30}, nil},
	{"family tablet (benign)", map[string]any{"device.present": true, "device.accounts1h": 2, "ip.users10m": 2, "ip.subnetUsers24h": 3, "ip.subnetDevices24h": 1}, nil},
	{"new phone at home (benign)", map[string]any{"device.present": true, "device.new": true, "device.newToAll7d": true, "ip.subnetUsers24h": 1, "ip.subnetDevices24h": 2}, nil},
	{"structuring over a week, third", map[string]any{"amount": 9500.0, "merchantCategory": "p2p_transfer", "user.nearLineCount7d": 3}, []string{"structuring over the week"}},
	{"structuring over a week, second", map[string]any{"amount": 9100.0, "merchantCategory": "p2p_transfer", "user.nearLineCount7d": 2}, []string{"second transfer just under the line"}},
	{"moving house: a sofa just under the line (benign)", map[string]any{"amount": 9400.0, "merchantCategory": "furniture", "user.nearLineCount7d": 1,
		"user.newMerchants72h": 4, "user.spend7dToDailyAvg30d": 9.0, "user.newCategory": true, "user.amountPercentile": 1.0, "user.hourTypicality": 0.2}, nil},
	{"slow drain, fifth day", map[string]any{"device.present": true, "device.userAgeDays": 4.2, "user.newMerchants72h": 5,
		"user.spend7dToDailyAvg30d": 6.5, "user.spendAcceleration": 3.1}, []string{"spending climbs at new merchants from a recent device"}},
	{"salary day (benign)", map[string]any{"device.present": true, "device.userAgeDays": 210.0, "user.newMerchants72h": 3,
		"user.spend7dToDailyAvg30d": 2.6, "user.spendAcceleration": 6.0}, nil},
	{"takeover from a new local device at night", map[string]any{"device.present": true, "device.new": true, "device.userAgeDays": 0.0, "user.txCount30d": 24,
		"user.amountPercentile": 1.0, "user.newCategory": true, "user.hourTypicality": 0.01},
		[]string{"off the customer's baseline at an odd hour", "off the customer's baseline from a device added today"}},
	{"the takeover's next payment, same category", map[string]any{"device.present": true, "device.userAgeDays": 0.02, "user.txCount30d": 25,
		"user.amountPercentile": 0.92, "user.hourTypicality": 0.04}, []string{"off the customer's baseline from a device added today"}},
	{"stolen phone at night", map[string]any{"device.present": true, "device.userAgeDays": 300.0, "user.txCount30d": 40,
		"user.amountPercentile": 0.97, "user.newCategory": true, "user.hourTypicality": 0.0}, []string{"off the customer's baseline at an odd hour"}},
	{"once-a-year purchase (benign)", map[string]any{"device.present": true, "device.userAgeDays": 300.0, "user.txCount30d": 30,
		"user.amountPercentile": 1.0, "user.newCategory": true, "user.hourTypicality": 0.31}, nil},
	{"a new customer's first weeks (benign)", map[string]any{"device.present": true, "device.new": true, "user.txCount30d": 8,
		"user.amountPercentile": 1.0, "user.newCategory": true, "user.hourTypicality": 0.0}, nil},
	{"a hotel abroad at night (benign)", map[string]any{"device.present": true, "device.userAgeDays": 200.0, "user.txCount30d": 30, "geo.newCountry": true,
		"user.amountPercentile": 0.99, "user.newCategory": true, "user.hourTypicality": 0.0}, nil},
	{"a new phone at the usual shop (benign)", map[string]any{"device.present": true, "device.new": true, "device.userAgeDays": 0.0, "user.txCount30d": 30,
		"user.amountPercentile": 0.95, "user.knownMerchant": true}, nil},
	{"anomalous on a new device", map[string]any{"device.present": true, "device.new": true, "device.userAgeDays": 3.0, "anomalyScore": 0.82}, []string{"anomalous and unfamiliar"}},
	{"anomalous but familiar (benign)", map[string]any{"device.present": true, "anomalyScore": 0.9, "user.amountPercentile": 0.6}, nil},
	{"card test, first probe", map[string]any{"amount": 0.5, "geo.present": false, "device.present": true, "device.ageDays": 0.0}, []string{"first probes of a card test"}},
	{"new phone's first app purchase (benign)", map[string]any{"amount": 6.0, "device.present": true, "device.ageDays": 0.0, "geo.present": true}, nil},
	{"real journey", map[string]any{"geo.present": true, "geo.hasPrevious": true, "geo.distanceKm": 2100.0, "geo.speedKmh": 950.0,
		"geo.travelBooked": true, "device.present": true, "device.usual": true, "geo.plausibleJourney": true}, []string{"plausible journey"}},
}

// caseEnv is the feature vector of a case as nested maps under the names
// conditions use: a zero transaction, issue 17's defaults, an amount of 100
// and a location, then the case.
func caseEnv(t *testing.T, set map[string]any) map[string]any {
	t.Helper()
	raw, err := (&Features{}).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	merge := func(path string, v any) {
		parts := strings.Split(path, ".")
		m := env
		for _, p := range parts[:len(parts)-1] {
			if _, ok := m[p].(map[string]any); !ok {
				m[p] = map[string]any{}
			}
			m = m[p].(map[string]any)
		}
		m[parts[len(parts)-1]] = v
	}
	for k, v := range issue17Defaults {
		if sub, ok := v.(map[string]any); ok {
			for name, x := range sub {
				merge(k+"."+name, x)
			}
		} else {
			merge(k, v)
		}
	}
	// An ordinary located payment of 100 unless the case says otherwise.
	merge("amount", 100.0)
	merge("geo.present", true)
	for _, k := range slices.Sorted(maps.Keys(set)) {
		merge(k, set[k])
	}
	return env
}

// TestGeneralisingRulesSeparateTypologiesFromLookalikes evaluates version 2
// of the default pack with expr over the contract's names, so the rules'
// logic is checked before the features exist in this build
// (TestGeneralisingPackCompiles checks them in the engine once they do).
func TestGeneralisingRulesSeparateTypologiesFromLookalikes(t *testing.T) {
	for _, c := range generalisingCases {
		env := caseEnv(t, c.set)
		var got []string
		for _, r := range GeneralisingRules() {
			program, err := expr.Compile(r.Condition, expr.Env(env), expr.AsBool())
			if err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			out, err := expr.Run(program, env)
			if err != nil {
				t.Fatalf("%s on %s: %v", r.Name, c.name, err)
			}
			if out.(bool) {
				got = append(got, r.Name)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: matched %q, want %q", c.name, got, c.want)
		}
	}
}

func TestGeneralisingRulesCombineSignals(t *testing.T) {
	for _, r := range GeneralisingRules() {
		switch {
		case r.Score < 0:
			if r.Type != "SUPPRESSION" || r.Score < -40 {
				t.Errorf("%s: a negative score is a SUPPRESSION offsetting at most the travel rule's 40: %+v", r.Name, r)
			}
		case !strings.Contains(r.Condition, "&&"):
			t.Errorf("%s: one signal alone: %s", r.Name, r.Condition)
		case r.Score > 60:
			t.Errorf("%s: score %d would reject without any other rule", r.Name, r.Score)
		}
	}
}
