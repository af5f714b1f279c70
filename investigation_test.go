package main

import (
	"sync"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
)

const handleEvent = `mutation($id: ID!, $in: HandleRiskEventInput!) { handleRiskEvent(id: $id, input: $in) { id status version assignee { username } } }`

type handledEvent struct {
	ID, Status string
	Version    int
	Assignee   *struct{ Username string }
}

func (e *testEnv) handle(t *testing.T, token, id string, in map[string]any) handledEvent {
	t.Helper()
	var out struct{ HandleRiskEvent handledEvent }
	e.must(t, token, handleEvent, map[string]any{"id": id, "in": in}, &out)
	return out.HandleRiskEvent
}

func TestRiskEventWorkflow(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	lead := e.user(t, "lead", domain.RoleAdmin)
	res := e.submit(t, alice.AccessToken, map[string]any{"amount": 50000, "deviceId": "fp-stolen"})
	id := res.RiskEvent.ID

	steps := []struct {
		in     map[string]any
		status string
	}{
		{map[string]any{"action": "ASSIGN", "assigneeId": ana.User.ID, "note": "yours"}, "OPEN"},
		{map[string]any{"action": "START"}, "INVESTIGATING"},
		{map[string]any{"action": "COMMENT", "note": "called the customer, no answer"}, "INVESTIGATING"},
		{map[string]any{"action": "ESCALATE", "note": "large and unreachable"}, "ESCALATED"},
		{map[string]any{"action": "CONFIRM_FRAUD", "freezeUser": true, "blacklistDevice": true, "note": "card reported stolen"}, "CONFIRMED_FRAUD"},
		{map[string]any{"action": "CLOSE"}, "CLOSED"},
	}
	version := 1
	for _, s := range steps {
		token := ana.AccessToken
		if s.in["action"] == "CONFIRM_FRAUD" {
			token = lead.AccessToken
		}
		got := e.handle(t, token, id, s.in)
		version++
		if got.Status != s.status || got.Version != version {
			t.Fatalf("%s: got %s v%d, want %s v%d", s.in["action"], got.Status, got.Version, s.status, version)
		}
		if got.Assignee == nil || got.Assignee.Username != "ana" {
			t.Fatalf("%s: assignee %+v, want ana", s.in["action"], got.Assignee)
		}
	}

	var ev struct {
		RiskEvent struct {
			Status    string
			HandledAt *string
			ClosedAt  *string
			Timeline  []struct {
				Kind, Action, Note string
				FromStatus         *string
				ToStatus           *string
				Actor              *struct{ Username string }
			}
			HandlingRecords []struct{ Action string }
			User            struct{ Status string }
		}
	}
	e.must(t, ana.AccessToken, `query($id: ID!) { riskEvent(id: $id) { status handledAt closedAt
		timeline { kind action note fromStatus toStatus actor { username } } handlingRecords { action } user { status } } }`,
		map[string]any{"id": id}, &ev)
	wantActions := []string{"DETECTED", "ALERT_RAISED", "ASSIGN", "START", "COMMENT", "ESCALATE", "CONFIRM_FRAUD", "CLOSE"}
	tl := ev.RiskEvent.Timeline
	if len(tl) != len(wantActions) {
		t.Fatalf("timeline: got %d entries %+v, want %d", len(tl), tl, len(wantActions))
	}
	for i, want := range wantActions {
		if tl[i].Action != want {
			t.Fatalf("timeline[%d]: got %s, want %s", i, tl[i].Action, want)
		}
	}
	if tl[4].Note != "called the customer, no answer" || tl[6].Actor.Username != "lead" || *tl[7].FromStatus != "CONFIRMED_FRAUD" || *tl[7].ToStatus != "CLOSED" {
		t.Fatalf("timeline details: got %+v", tl)
	}
	// The verdict resolved the event's alert: its RESOLVE record follows the step.
	records := ev.RiskEvent.HandlingRecords
	if len(records) != 7 || records[4].Action != "CONFIRM_FRAUD" || records[5].Action != "RESOLVE" || ev.RiskEvent.HandledAt == nil || ev.RiskEvent.ClosedAt == nil {
		t.Fatalf("handling records / times: got %+v", ev.RiskEvent)
	}
	if ev.RiskEvent.User.Status != "FROZEN" {
		t.Fatalf("confirmed fraud with freezeUser: user is %s", ev.RiskEvent.User.Status)
	}
	var dev struct {
		Transaction struct{ Device struct{ Status string } }
	}
	e.must(t, ana.AccessToken, `query($id: ID!) { transaction(id: $id) { device { status } } }`, map[string]any{"id": res.Transaction.ID}, &dev)
	if dev.Transaction.Device.Status != "BLACKLISTED" {
		t.Fatalf("device: got %s, want BLACKLISTED", dev.Transaction.Device.Status)
	}
	e.mustFail(t, alice.AccessToken, meQuery, nil, "UNAUTHENTICATED") // frozen: sessions ended

	// The filters find it by status, level and assignee.
	var list struct{ RiskEvents struct{ TotalCount int } }
	e.must(t, ana.AccessToken, `query($a: ID!) { riskEvents(filter: {status: CLOSED, level: MEDIUM, assigneeId: $a, type: "AMOUNT"}) { totalCount } }`,
		map[string]any{"a": ana.User.ID}, &list)
	if list.RiskEvents.TotalCount != 1 {
		t.Fatalf("filtered events: got %d, want 1", list.RiskEvents.TotalCount)
	}
}

func TestIllegalTransitionsAreRefused(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	id := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000}).RiskEvent.ID
	for _, action := range []string{"CLOSE", "CONFIRM_FRAUD", "MARK_FALSE_POSITIVE"} {
		e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": action}}, "CONFLICT")
	}
	e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "COMMENT"}}, "BAD_USER_INPUT")
	e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "ASSIGN", "assigneeId": alice.User.ID}}, "BAD_USER_INPUT")
	e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "START", "freezeUser": true}}, "BAD_USER_INPUT")
	e.mustFail(t, alice.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "START"}}, "FORBIDDEN")
	e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": "987654", "in": map[string]any{"action": "START"}}, "NOT_FOUND")
	e.handle(t, ana.AccessToken, id, map[string]any{"action": "START"})
	e.mustFail(t, ana.AccessToken, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "START", "expectedVersion": 1}}, "CONFLICT")
	if n := e.count(t, "SELECT count(*) FROM event_timeline WHERE kind = 'ACTION'"); n != 1 {
		t.Fatalf("refused steps left timeline entries: got %d action entries, want 1", n)
	}
}

func TestConcurrentHandlersNeverLoseAnUpdate(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	ben := e.user(t, "ben", domain.RoleAnalyst)
	id := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000}).RiskEvent.ID

	var wg sync.WaitGroup
	codes := make([]string, 2)
	for i, token := range []string{ana.AccessToken, ben.AccessToken} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.post(t, token, handleEvent, map[string]any{"id": id, "in": map[string]any{"action": "START", "expectedVersion": 1}}).code()
		}()
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case "CONFLICT":
			conflict++
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("two concurrent STARTs: got codes %q, want one success and one CONFLICT", codes)
	}
	if n := e.count(t, "SELECT count(*) FROM event_timeline WHERE action = 'START'"); n != 1 {
		t.Fatalf("START entries: got %d, want 1", n)
	}
	if v := e.count(t, "SELECT version FROM risk_events WHERE id = ?", id); v != 2 {
		t.Fatalf("version: got %d, want 2", v)
	}
	// Two concurrent comments both land: row locks serialize, nothing is lost.
	for _, token := range []string{ana.AccessToken, ben.AccessToken} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.handle(t, token, id, map[string]any{"action": "COMMENT", "note": "seen"})
		}()
	}
	wg.Wait()
	if n := e.count(t, "SELECT count(*) FROM event_timeline WHERE action = 'COMMENT'"); n != 2 {
		t.Fatalf("COMMENT entries: got %d, want 2", n)
	}
}

func TestAlertHandling(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	res := e.submit(t, alice.AccessToken, map[string]any{"amount": 12000})
	handle := `mutation($id: ID!, $in: HandleAlertInput!) { handleAlert(id: $id, input: $in) { status handledBy { username } handledAt handleNote } }`
	var out struct {
		HandleAlert struct {
			Status     string
			HandledBy  *struct{ Username string }
			HandledAt  *string
			HandleNote *string
		}
	}
	e.must(t, ana.AccessToken, handle, map[string]any{"id": res.Alert.ID, "in": map[string]any{"action": "ACKNOWLEDGE"}}, &out)
	if out.HandleAlert.Status != "ACKNOWLEDGED" || out.HandleAlert.HandledBy.Username != "ana" || out.HandleAlert.HandledAt == nil {
		t.Fatalf("acknowledge: got %+v", out.HandleAlert)
	}
	e.must(t, ana.AccessToken, handle, map[string]any{"id": res.Alert.ID, "in": map[string]any{"action": "RESOLVE", "note": "customer confirmed"}}, &out)
	if out.HandleAlert.Status != "RESOLVED" || *out.HandleAlert.HandleNote != "customer confirmed" {
		t.Fatalf("resolve: got %+v", out.HandleAlert)
	}
	e.mustFail(t, ana.AccessToken, handle, map[string]any{"id": res.Alert.ID, "in": map[string]any{"action": "DISMISS"}}, "CONFLICT")
	e.mustFail(t, alice.AccessToken, handle, map[string]any{"id": res.Alert.ID, "in": map[string]any{"action": "DISMISS"}}, "FORBIDDEN")

	var ev struct {
		RiskEvent struct {
			Timeline        []struct{ Kind, Action string }
			HandlingRecords []struct {
				Action string
				Alert  *struct{ ID string }
			}
		}
	}
	e.must(t, ana.AccessToken, `query($id: ID!) { riskEvent(id: $id) { timeline { kind action } handlingRecords { action alert { id } } } }`,
		map[string]any{"id": res.RiskEvent.ID}, &ev)
	tl := ev.RiskEvent.Timeline
	if len(tl) != 4 || tl[2].Action != "ALERT_ACKNOWLEDGE" || tl[3].Action != "ALERT_RESOLVE" || tl[3].Kind != "ALERT" {
		t.Fatalf("timeline: got %+v", tl)
	}
	if hr := ev.RiskEvent.HandlingRecords; len(hr) != 2 || hr[1].Alert == nil || hr[1].Alert.ID != res.Alert.ID {
		t.Fatalf("handling records: got %+v", hr)
	}
	var alerts struct{ Alerts struct{ TotalCount int } }
	e.must(t, ana.AccessToken, `{ alerts(filter: {status: RESOLVED, level: MEDIUM}) { totalCount } }`, nil, &alerts)
	if alerts.Alerts.TotalCount != 1 {
		t.Fatalf("alerts filter: got %d, want 1", alerts.Alerts.TotalCount)
	}
}
