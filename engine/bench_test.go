package engine

import (
	"fmt"
	"testing"
	"time"
)

// benchFeatures is a busy but ordinary transaction that trips a few rules.
func benchFeatures() *Features {
	at := time.Date(2024, 5, 1, 2, 15, 0, 0, time.UTC)
	f := &Features{
		Amount: 12500, Currency: "CNY", Merchant: "m-1042", MerchantCategory: "electronics", Channel: "APP",
		User: UserFeatures{
			TxCount10m: 3, TxCount1h: 6, TxCount24h: 14, TxCount7d: 40,
			Amount10m: 15000, Amount1h: 21000, Amount24h: 38000, Amount7d: 90000,
			TopMerchants: []string{"m-7", "m-1042", "m-88"},
			CreatedAt:    at.Add(-400 * 24 * time.Hour),
			Role:         "USER",
		},
		Device: DeviceFeatures{ID: "fp-9", New: true, UserCount: 2, Status: "NORMAL", FirstSeen: at.Add(-time.Hour)},
		Geo: GeoFeatures{
			Present: true, Latitude: 31.2304, Longitude: 121.4737, Country: "CN", City: "Shanghai",
			HasPrevious: true, PrevLatitude: 39.9042, PrevLongitude: 116.4074, PrevCountry: "CN", PrevAt: at.Add(-3 * time.Hour),
		},
	}
	f.Derive(at)
	return f
}

// fiftyRules mixes the built-in rules with 45 realistic ones over every kind
// of feature: thresholds, strings, lists, seed-004 JSON documents, and two
// that need expr's VM.
func fiftyRules() []Rule {
	rules := BuiltinRules()
	conds := []string{
		`amount >= 5000 && user.avgAmount24h > 0 && amount > 5 * user.avgAmount24h`,
		`user.txCount1h >= 10`,
		`user.txCount24h >= 30`,
		`user.amount24h >= 50000`,
		`user.amount1h >= 20000 && !user.vip`,
		`device.new && amount >= 3000`,
		`device.userCount >= 3`,
		`device.present && device.ageDays < 1 && amount >= 8000`,
		`!device.present && amount >= 2000`,
		`hour >= 0 && hour < 5 && amount >= 5000`,
		`weekday == 0 && amount >= 20000`,
		`currency != "CNY" && amount >= 3000`,
		`channel == "WEB" && device.new`,
		`merchantCategory in ["gambling", "crypto", "gift_cards"]`,
		`merchantCategory == "electronics" && amount >= 10000 && !user.knownMerchant`,
		`!user.knownMerchant && amount >= 5000`,
		`user.accountAgeDays < 7 && amount >= 1000`,
		`user.accountAgeDays < 30 && user.txCount24h >= 10`,
		`geo.present && geo.country != "CN"`,
		`geo.hasPrevious && geo.country != geo.prevCountry`,
		`geo.hasPrevious && geo.speedKmh > 300 && geo.distanceKm > 500`,
		`!geo.present && amount >= 5000`,
		`user.role == "USER" && amount >= 50000`,
		`user.vip && amount >= 200000`,
		`merchant in ["m-1", "m-2", "m-3", "m-4", "m-5"]`,
		`user.txCount10m >= 3 && user.amount10m >= 10000`,
		`user.txCount7d < 3 && amount >= 5000`,
		`amount >= 9000 && amount < 10000`,
		`amount >= 49000 && amount < 50000`,
		`user.amount7d >= 200000`,
		`device.status == "ABNORMAL" && amount >= 1000`,
		`device.new && geo.hasPrevious && geo.distanceKm > 1000`,
		`hour in [1, 2, 3, 4] && device.new`,
		`channel == "API" && user.role != "SERVICE"`,
		`len(user.topMerchants) == 0 && amount >= 3000`,
		`user.txCount24h > 0 && user.amount24h / user.txCount24h > 10000`,
		`geo.city == "" && geo.present`,
		`user.txCount1h >= 5 && device.userCount >= 2`,
		`any(user.topMerchants, # startsWith "m-9") && amount >= 8000`, // runs on the VM
		`merchant matches "^m-10[0-9]{2}$" && device.new`,              // runs on the VM
		`{"amount": {"$gt": 10000, "$lt": 15000}, "device": {"new_device": true}}`,
		`{"time": {"hour": [0, 1, 2, 3]}, "user_features": {"tx_count_24h": 10}}`,
		`{"user_features": {"tx_amount_24h": 30000, "avg_amount_24h": 2000}}`,
		`{"user_features": {"tx_count_1h": 5, "tx_amount_1h": 20000}}`,
		`{"user_features": {"tx_count_7d": {"$gte": 100}}}`,
	}
	for i, c := range conds {
		rules = append(rules, Rule{Name: fmt.Sprintf("rule %d", i), Condition: c, Score: 5 + i%20, Priority: i % 7})
	}
	for i := range rules {
		rules[i].ID = int64(i + 1)
	}
	return rules
}

func benchmarkScore(b *testing.B, rules []Rule, vmOnly bool) {
	rs, err := Compile(rules)
	if err != nil {
		b.Fatal(err)
	}
	if vmOnly {
		for i := range rs.rules {
			rs.rules[i].cond.native = nil
		}
	}
	f := benchFeatures()
	cfg := DefaultConfig()
	ctx := b.Context()
	b.ReportAllocs()
	var res Result
	for b.Loop() {
		if res, err = Score(ctx, rs, f, nil, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Matched)), "matched")
}

func BenchmarkScoreBuiltin(b *testing.B) { benchmarkScore(b, BuiltinRules(), false) }

func BenchmarkScore50Rules(b *testing.B) { benchmarkScore(b, fiftyRules(), false) }

// BenchmarkScore50RulesVM measures the same rules all on expr's VM, the
// baseline the native closures are there to beat.
func BenchmarkScore50RulesVM(b *testing.B) { benchmarkScore(b, fiftyRules(), true) }

func TestFiftyRules(t *testing.T) {
	rules := fiftyRules()
	if len(rules) != 50 {
		t.Fatalf("got %d rules; want 50", len(rules))
	}
	rs, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Score(t.Context(), rs, benchFeatures(), nil, DefaultConfig())
	if err != nil || len(res.RuleErrors) > 0 || len(res.Matched) == 0 {
		t.Errorf("got %d matches, rule errors %v, %v; want some matches and no errors", len(res.Matched), res.RuleErrors, err)
	}
}
