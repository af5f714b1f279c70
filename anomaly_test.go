package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

const (
	trainAnomaly = `mutation($in: TrainAnomalyModelInput) { trainAnomalyModel(input: $in) { id version segmentBy featureNames active
		metrics { seed trees sampleSize rows truncated global { name rows p50 p99 } segments { name rows } } } }`
	anomalyModels = `{ anomalyModels { totalCount edges { node { id version active activatedAt } } } }`
)

type anomalyModelOut struct {
	ID, SegmentBy string
	Version       int
	FeatureNames  []string
	Active        bool
	Metrics       struct {
		Seed                    string
		Trees, SampleSize, Rows int
		Truncated               bool
		Global                  struct {
			Name     string
			Rows     int
			P50, P99 float64
		}
		Segments []struct {
			Name string
			Rows int
		}
	}
}

// An admin trains an anomaly model on recent traffic through the API,
// activates it on one instance, and a rule reading anomalyScore fires for an
// outlier on another; deactivated, the score is 0 there again. Training,
// activation and deactivation are admin-only and audited.
func TestAnomalyModelActivation(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.db, a.url)
	for _, e := range []*testEnv{a, b} {
		e.clock.AdvanceToHour(12) // by day: no night rule
	}
	admin := a.user(t, "root", domain.RoleAdmin)
	analyst := a.user(t, "ana", domain.RoleAnalyst)
	gateway := a.user(t, "gateway", domain.RoleService)
	mallory := a.user(t, "mallory", domain.RoleUser)

	// Four days of ordinary traffic: 6 customers, 12 payments each, on the
	// app, every 8 hours, 40–150 at their own few shops on their own phone.
	start := a.clock.Now().Add(-96 * time.Hour)
	var customers []session
	for u := range 6 {
		customers = append(customers, a.user(t, fmt.Sprintf("cust%d", u), domain.RoleUser))
	}
	// The accounts date from before the history, in the test clock's time: a
	// creation in real time would make account age (a forest feature) depend
	// on the hour the test runs.
	if _, err := a.db.ExecContext(context.Background(), `UPDATE users SET created_at = ? WHERE username LIKE 'cust%' OR username = 'mallory'`,
		start.Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for u, c := range customers {
		for i := range 12 {
			a.submit(t, gateway.AccessToken, map[string]any{"userId": c.User.ID, "amount": fmt.Sprint(40 + (u*37+i*53)%110),
				"merchantId": fmt.Sprintf("shop-%d", (u+i)%4), "channel": "APP", "deviceId": fmt.Sprintf("phone-%d", u),
				"occurredAt": start.Add(time.Duration(i*8)*time.Hour + time.Duration(u)*time.Minute)})
		}
	}
	const rule = "anomalous payment"
	a.must(t, admin.AccessToken, upsertRule, map[string]any{"in": map[string]any{"name": rule, "condition": "anomalyScore > 0.6", "score": 30}}, nil)
	// mallory's payment: a first one, 9,000 at a merchant nobody paid, from a
	// device nobody used, through the app in the small hours of its place.
	outlier := func(e *testEnv, n int) submitted {
		return e.submit(t, mallory.AccessToken, map[string]any{"amount": "9000", "merchantId": fmt.Sprintf("new-payee-%d", n),
			"channel": "APP", "deviceId": fmt.Sprintf("burner-%d", n)})
	}
	if s := outlier(b, 1); hitsRule(s, rule) || s.Detection.Features["anomalyScore"] != 0.0 {
		t.Fatalf("without an anomaly model: rules %v, anomalyScore %v; want no hit and 0", s.ruleNames(), s.Detection.Features["anomalyScore"])
	}

	a.mustFail(t, analyst.AccessToken, trainAnomaly, nil, "FORBIDDEN")
	a.mustFail(t, admin.AccessToken, trainAnomaly, map[string]any{"in": map[string]any{"trees": 0}}, "BAD_USER_INPUT")
	a.mustFail(t, admin.AccessToken, trainAnomaly, map[string]any{"in": map[string]any{"from": a.clock.Now().Add(-time.Hour)}}, "BAD_USER_INPUT") // 1 row: too few
	var trained struct{ TrainAnomalyModel anomalyModelOut }
	a.must(t, admin.AccessToken, trainAnomaly, map[string]any{"in": map[string]any{"seed": 7}}, &trained)
	m := trained.TrainAnomalyModel
	// 72 ordinary payments and mallory's, unsegmented by default: the global
	// forest alone (its trees take all 73).
	if m.Version != 1 || m.SegmentBy != "NONE" || m.Active || !slices.Contains(m.FeatureNames, "log1p(amount)") ||
		m.Metrics.Seed != "7" || m.Metrics.Trees != 100 || m.Metrics.SampleSize != 256 || m.Metrics.Rows != 73 || m.Metrics.Truncated ||
		m.Metrics.Global.Name != "" || m.Metrics.Global.Rows != 73 || len(m.Metrics.Segments) != 0 || !(m.Metrics.Global.P50 < m.Metrics.Global.P99) {
		t.Fatalf("trained: %+v", m)
	}
	// A second version, by channel: the app's 73 rows make a segment at this minimum.
	var bySegment struct{ TrainAnomalyModel anomalyModelOut }
	a.must(t, admin.AccessToken, trainAnomaly, map[string]any{"in": map[string]any{"segmentBy": "CHANNEL", "minSegmentRows": 20, "trees": 10}}, &bySegment)
	if v := bySegment.TrainAnomalyModel; v.Version != 2 || v.SegmentBy != "CHANNEL" || v.Metrics.Trees != 10 || len(v.Metrics.Segments) != 1 ||
		v.Metrics.Segments[0].Name != "app" || v.Metrics.Segments[0].Rows != 73 || v.Metrics.Global.Rows != 73 {
		t.Fatalf("trained by channel: %+v", v)
	}

	var list struct {
		AnomalyModels struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID          string
					Version     int
					Active      bool
					ActivatedAt *time.Time
				}
			}
		}
	}
	a.must(t, analyst.AccessToken, anomalyModels, nil, &list)
	if l := list.AnomalyModels; l.TotalCount != 2 || l.Edges[0].Node.Version != 2 || l.Edges[1].Node.ID != m.ID || l.Edges[1].Node.Active || l.Edges[1].Node.ActivatedAt != nil {
		t.Fatalf("versions before activation: %+v", l)
	}
	a.mustFail(t, mallory.AccessToken, anomalyModels, nil, "FORBIDDEN")
	a.mustFail(t, analyst.AccessToken, `mutation($id: ID!) { activateAnomalyModel(id: $id) { active } }`, map[string]any{"id": m.ID}, "FORBIDDEN")

	within := func(what string, cond func() bool) {
		t.Helper()
		for start := time.Now(); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: not on the second instance after a second", what)
			}
		}
	}
	a.must(t, admin.AccessToken, `mutation($id: ID!) { activateAnomalyModel(id: $id) { active } }`, map[string]any{"id": m.ID}, nil)
	within("activation", func() bool { return b.app.anomaly.Current() != nil })
	s := outlier(b, 2)
	score, _ := s.Detection.Features["anomalyScore"].(float64)
	if !hitsRule(s, rule) || score <= 0.6 {
		t.Fatalf("with the model active on another instance: rules %v, anomalyScore %v; want %q over 0.6", s.ruleNames(), score, rule)
	}
	// An ordinary payment stays unremarkable: a customer's usual amount at one
	// of their shops on their own phone.
	if s := a.submit(t, gateway.AccessToken, map[string]any{"userId": customers[0].User.ID, "amount": "80", "merchantId": "shop-1", "channel": "APP",
		"deviceId": "phone-0"}); hitsRule(s, rule) {
		t.Fatalf("an ordinary payment hit %q", rule)
	}
	a.must(t, analyst.AccessToken, anomalyModels, nil, &list)
	if n := list.AnomalyModels.Edges[1].Node; !n.Active || n.ActivatedAt == nil || list.AnomalyModels.Edges[0].Node.Active {
		t.Fatalf("listed after activation: %+v", n)
	}

	a.must(t, admin.AccessToken, `mutation($id: ID!) { deactivateAnomalyModel(id: $id) { active } }`, map[string]any{"id": m.ID}, nil)
	within("deactivation", func() bool { return b.app.anomaly.Current() == nil })
	if s := outlier(b, 3); hitsRule(s, rule) || s.Detection.Features["anomalyScore"] != 0.0 {
		t.Fatalf("after deactivation: rules %v, anomalyScore %v", s.ruleNames(), s.Detection.Features["anomalyScore"])
	}
	for _, action := range []string{"anomalyModel.trained", "anomalyModel.activated", "anomalyModel.deactivated"} {
		if n := a.count(t, "SELECT count(*) FROM audit_logs WHERE action = ? AND target_id = ?", action, m.ID); n != 1 {
			t.Errorf("%s: %d audit entries, want 1", action, n)
		}
	}
}

// The anomaly model's root fields in the authorization matrix
// (authz_matrix_test.go): ADMIN trains and activates, staff list.
func init() {
	maps.Copy(authzMatrix, map[string]cells{
		//                                 anonymous USER  USER-other VIP  VIP-other ANALYST ADMIN SERVICE
		"Query.anomalyModels":             {unauth, forbid, na, forbid, na, allow, allow, forbid},
		"Mutation.trainAnomalyModel":      {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.activateAnomalyModel":   {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.deactivateAnomalyModel": {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	})
	id := fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.anomalyModel} })
	maps.Copy(authzOps, map[string]authzOp{
		"Query.anomalyModels":        {query: `{ anomalyModels { totalCount } }`},
		"Mutation.trainAnomalyModel": {query: `mutation { trainAnomalyModel { id } }`},
		// Activated, then at once deactivated, so no anomaly model scores the other cases.
		"Mutation.activateAnomalyModel": {query: `mutation($id: ID!) { activateAnomalyModel(id: $id) { active } }`, vars: id,
			check: func(t *testing.T, s *authzSuite, _ authzCaller, v any) {
				t.Helper()
				field("anomaly model active", []string{"active"}, true)(t, s, authzCaller{}, v)
				s.e.must(t, s.admin.AccessToken, `mutation($id: ID!) { deactivateAnomalyModel(id: $id) { active } }`, map[string]any{"id": s.anomalyModel}, nil)
			}},
		"Mutation.deactivateAnomalyModel": {query: `mutation($id: ID!) { deactivateAnomalyModel(id: $id) { active } }`, vars: id},
	})
}

// trainedAnomalyModel trains an anomaly model on the suite's traffic so far.
func (s *authzSuite) trainedAnomalyModel(t *testing.T) string {
	t.Helper()
	var out struct{ TrainAnomalyModel struct{ ID string } }
	s.e.must(t, s.admin.AccessToken, `mutation { trainAnomalyModel { id } }`, nil, &out)
	return out.TrainAnomalyModel.ID
}
