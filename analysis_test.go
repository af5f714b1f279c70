package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

type related struct {
	Depth    int
	User     struct{ Username string }
	Evidence []struct{ Kind, Value string }
}

func (e *testEnv) related(t *testing.T, token, userID string, depth int) map[string]related {
	t.Helper()
	var out struct {
		User struct{ RelatedUsers []related }
	}
	e.must(t, token, `query($id: ID!, $d: Int) { user(id: $id) { relatedUsers(depth: $d) { depth user { username } evidence { kind value } } } }`,
		map[string]any{"id": userID, "d": depth}, &out)
	m := map[string]related{}
	for _, r := range out.User.RelatedUsers {
		m[r.User.Username] = r
	}
	return m
}

func TestLinkAnalysis(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	ids := map[string]string{}
	for _, name := range []string{"ring1", "ring2", "ring3", "mule"} {
		ids[name] = e.user(t, name, domain.RoleUser).User.ID
	}
	for _, name := range []string{"ring1", "ring2", "ring3"} {
		e.submit(t, gateway.AccessToken, map[string]any{"userId": ids[name], "amount": 10, "deviceId": "fp-emulator", "ipAddress": "203.0.113." + name[4:]})
	}
	// The mule shares only an IP address with ring3.
	e.submit(t, gateway.AccessToken, map[string]any{"userId": ids["mule"], "amount": 10, "ipAddress": "203.0.113.3"})

	for _, name := range []string{"ring1", "ring2", "ring3"} {
		got := e.related(t, analyst.AccessToken, ids[name], 1)
		for _, other := range []string{"ring1", "ring2", "ring3"} {
			if other == name {
				continue
			}
			r, ok := got[other]
			if !ok || r.Depth != 1 || len(r.Evidence) != 1 || r.Evidence[0].Kind != "DEVICE" || r.Evidence[0].Value != "fp-emulator" {
				t.Fatalf("%s → %s: got %+v, want depth 1 via device fp-emulator", name, other, r)
			}
		}
		if _, self := got[name]; self {
			t.Fatalf("%s is related to itself", name)
		}
	}
	deep := e.related(t, analyst.AccessToken, ids["ring1"], 2)
	if m := deep["mule"]; m.Depth != 2 || m.Evidence[0].Kind != "IP" || m.Evidence[0].Value != "203.0.113.3" {
		t.Fatalf("ring1 → mule: got %+v, want depth 2 via IP 203.0.113.3", m)
	}
	if _, ok := e.related(t, analyst.AccessToken, ids["ring1"], 1)["mule"]; ok {
		t.Fatal("mule found at depth 1 from ring1")
	}
	if m := e.related(t, analyst.AccessToken, ids["ring3"], 1)["mule"]; m.Depth != 1 {
		t.Fatalf("ring3 → mule: got %+v, want depth 1", m)
	}
	e.mustFail(t, analyst.AccessToken, `query($id: ID!) { user(id: $id) { relatedUsers(depth: 4) { depth } } }`, map[string]any{"id": ids["ring1"]}, "BAD_USER_INPUT")

	var profile struct {
		User struct {
			RiskProfile struct {
				DistinctDevices int
				Windows         []struct {
					Window string
					Count  int
					Volume string
				}
				Score   int
				Reasons []struct{ Factor string }
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { user(id: $id) { riskProfile { distinctDevices windows { window count volume } score reasons { factor } } } }`,
		map[string]any{"id": ids["ring1"]}, &profile)
	p := profile.User.RiskProfile
	if p.DistinctDevices != 1 || len(p.Windows) != 3 || p.Windows[0].Count != 1 || p.Windows[0].Volume != "10.00" {
		t.Fatalf("risk profile: got %+v", p)
	}
	// Customers cannot run link analysis, even on themselves.
	var ring1 struct{ Login session }
	e.must(t, "", loginMutation, map[string]any{"in": map[string]any{"username": "ring1", "password": "correct horse battery"}}, &ring1)
	e.mustFail(t, ring1.Login.AccessToken, `query($id: ID!) { user(id: $id) { relatedUsers { depth } } }`, map[string]any{"id": ids["ring1"]}, "FORBIDDEN")
}

func TestSuggestionsForSharedDeviceFraud(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	var events []string
	for _, name := range []string{"sam1", "sam2", "sam3"} {
		id := e.user(t, name, domain.RoleUser).User.ID
		tx := e.submit(t, gateway.AccessToken, map[string]any{"userId": id, "amount": 15000, "deviceId": "fp-farm"}).Transaction.ID
		events = append(events, e.eventOf(t, analyst.AccessToken, tx))
	}
	e.handle(t, analyst.AccessToken, events[0], map[string]any{"action": "START"})
	e.handle(t, analyst.AccessToken, events[0], map[string]any{"action": "CONFIRM_FRAUD"})
	var out struct {
		RiskEvent struct {
			Suggestions []struct {
				Action, Reason string
				Priority       int
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { riskEvent(id: $id) { suggestions { action reason priority } } }`, map[string]any{"id": events[2]}, &out)
	s := out.RiskEvent.Suggestions
	if len(s) == 0 || s[0].Action != "BLACKLIST_DEVICE" || !strings.Contains(s[0].Reason, "shared with 3 users, 1 with confirmed fraud") {
		t.Fatalf("suggestions: got %+v, want BLACKLIST_DEVICE first citing 3 users and 1 confirmed fraud", s)
	}
}

func TestRiskTrendIsZeroFilledAndSumsMatch(t *testing.T) {
	e := newEnv(t)
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	gateway := e.user(t, "gateway", domain.RoleService)
	ids := []string{e.user(t, "tia", domain.RoleUser).User.ID, e.user(t, "tom", domain.RoleUser).User.ID}
	day := e.clock.Now().UTC().Add(-72 * time.Hour).Truncate(24 * time.Hour)
	seeded := []struct {
		hour   int
		amount string
	}{{3, "10"}, {3, "20"}, {9, "12000"}, {9, "5"}, {17, "30000"}, {23, "1"}}
	for i, s := range seeded {
		e.submit(t, gateway.AccessToken, map[string]any{"userId": ids[i%2], "amount": s.amount, "occurredAt": day.Add(time.Duration(s.hour)*time.Hour + time.Duration(i)*time.Minute)})
	}
	var out struct {
		RiskTrend []struct {
			BucketStart                                time.Time
			Transactions, Medium, Pass, Events, Alerts int
			Volume                                     string
		}
	}
	e.must(t, analyst.AccessToken, `query($f: Time!, $t: Time!) { riskTrend(from: $f, to: $t, bucket: HOUR) { bucketStart transactions medium pass events alerts volume } }`,
		map[string]any{"f": day, "t": day.Add(24 * time.Hour)}, &out)
	if len(out.RiskTrend) != 24 {
		t.Fatalf("buckets: got %d, want 24", len(out.RiskTrend))
	}
	sumTx, sumMedium, sumEvents := 0, 0, 0
	for h, b := range out.RiskTrend {
		if !b.BucketStart.Equal(day.Add(time.Duration(h) * time.Hour)) {
			t.Fatalf("bucket %d starts %v", h, b.BucketStart)
		}
		sumTx += b.Transactions
		sumMedium += b.Medium
		sumEvents += b.Events
	}
	if sumTx != 6 || sumMedium != 2 || out.RiskTrend[3].Transactions != 2 || out.RiskTrend[9].Volume != "12005.00" || out.RiskTrend[4].Transactions != 0 {
		t.Fatalf("trend: sums tx %d medium %d; hour 3 %+v; hour 9 %+v", sumTx, sumMedium, out.RiskTrend[3], out.RiskTrend[9])
	}
	// Events and alerts fall in the hour their backfilled payments happened
	// (12,000 at 9 and 30,000 at 17), like the transactions, not when they were opened.
	if sumEvents != 2 || out.RiskTrend[9].Events != 1 || out.RiskTrend[17].Events != 1 ||
		out.RiskTrend[9].Alerts != 1 || out.RiskTrend[17].Alerts != 1 {
		t.Fatalf("events in the backfilled day: got %d; hour 9 %+v; hour 17 %+v", sumEvents, out.RiskTrend[9], out.RiskTrend[17])
	}
	var stats struct {
		RiskEventStats struct {
			Total, Open int
			ByLevel     []struct {
				Key   string
				Count int
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($f: Time!, $t: Time!) { riskEventStats(from: $f, to: $t) { total open byLevel { key count } } }`,
		map[string]any{"f": e.clock.Now().Add(-time.Hour), "t": e.clock.Now().Add(time.Hour)}, &stats)
	if stats.RiskEventStats.Total != 2 || stats.RiskEventStats.Open != 2 {
		t.Fatalf("event stats: got %+v, want 2 open", stats.RiskEventStats)
	}
}

func TestDataQualityFlagsAnomalousDay(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	u := e.user(t, "feeder", domain.RoleUser)
	var src struct {
		CreateDataSource struct {
			ID     string
			Config map[string]any
		}
	}
	e.must(t, admin.AccessToken, `mutation { createDataSource(input: {name: "card-stream", kind: STREAM, config: {topic: "auth", password: "hunter2"}}) { id config } }`, nil, &src)
	if src.CreateDataSource.Config["password"] != "***" || src.CreateDataSource.Config["topic"] != "auth" {
		t.Fatalf("config: got %v, want the password redacted", src.CreateDataSource.Config)
	}
	// Eight normal days of 20 transactions, then a day of 200.
	base := e.clock.Now().UTC().Truncate(24 * time.Hour).Add(-10 * 24 * time.Hour)
	_, err := e.db.ExecContext(context.Background(), `
		INSERT INTO transactions (user_id, amount, currency, status, submitted_by, occurred_at, source_id, ip_address)
		SELECT ?, 10, 'CNY', 'APPROVED', ?, ?::timestamptz + (d || ' days')::interval + (n || ' minutes')::interval, ?, CASE WHEN n % 2 = 0 THEN '203.0.113.1' END
		FROM generate_series(0, 8) d, generate_series(1, 200) n
		WHERE n <= CASE WHEN d = 8 THEN 200 ELSE 20 + (d % 2) END`, u.User.ID, u.User.ID, base, src.CreateDataSource.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		DataQuality struct {
			Completeness struct{ Total, MissingIP, MissingDevice int }
			Volume       []struct {
				Day   time.Time
				Count int
			}
			Anomalies []struct {
				Day       time.Time
				Count     int
				Direction string
			}
			Freshness []struct{ SourceName string }
		}
	}
	e.must(t, admin.AccessToken, `query($s: ID, $f: Time, $t: Time) { dataQuality(sourceId: $s, from: $f, to: $t) {
		completeness { total missingIp missingDevice } volume { day count } anomalies { day count direction } freshness { sourceName } } }`,
		map[string]any{"s": src.CreateDataSource.ID, "f": base.Add(7 * 24 * time.Hour), "t": base.Add(9 * 24 * time.Hour)}, &out)
	q := out.DataQuality
	if len(q.Anomalies) != 1 || !q.Anomalies[0].Day.Equal(base.Add(8*24*time.Hour)) || q.Anomalies[0].Count != 200 || q.Anomalies[0].Direction != "SPIKE" {
		t.Fatalf("anomalies: got %+v, want only day 8 (200, SPIKE)", q.Anomalies)
	}
	if len(q.Volume) != 2 || q.Volume[0].Count != 21 || q.Completeness.Total != 221 || q.Completeness.MissingDevice != 221 || q.Completeness.MissingIP != 111 {
		t.Fatalf("volume/completeness: got %+v %+v", q.Volume, q.Completeness)
	}
	e.mustFail(t, u.AccessToken, `{ dataQuality { completeness { total } } }`, nil, "FORBIDDEN")
}

func TestMetricsExposeDecisions(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	e.submit(t, alice.AccessToken, map[string]any{"amount": 12000})
	e.submit(t, alice.AccessToken, map[string]any{"amount": 3})
	resp, err := e.srv.Client().Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`riskgraph_decisions_total{decision="PASS",level="MEDIUM"} 1`,
		`riskgraph_decisions_total{decision="PASS",level="LOW"} 1`,
		`riskgraph_rule_hits_total{rule="large amount"} 1`,
		`riskgraph_alerts_raised_total{level="MEDIUM"} 1`,
		`riskgraph_graphql_requests_total{operation="mutation.submitTransaction",outcome="ok"} 2`,
		"riskgraph_submit_feature_read_seconds_count 2",
		"riskgraph_submit_score_seconds_count 2",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(grepLines(string(body), "riskgraph_"))
	}
	var status struct {
		SystemStatus struct {
			Database       struct{ Reachable bool }
			ScoringLatency struct{ Samples int }
			RulesLoaded    int
		}
	}
	analyst := e.user(t, "ana", domain.RoleAnalyst)
	e.must(t, analyst.AccessToken, `{ systemStatus { database { reachable } scoringLatency { samples } rulesLoaded } }`, nil, &status)
	if !status.SystemStatus.Database.Reachable || status.SystemStatus.ScoringLatency.Samples != 2 || status.SystemStatus.RulesLoaded != seededRules() {
		t.Fatalf("system status: got %+v", status.SystemStatus)
	}
}

func grepLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			fmt.Fprintln(&b, line)
		}
	}
	return b.String()
}
