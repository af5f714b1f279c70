package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
	"github.com/smartfinance/riskgraph/internal/store"
)

const reviewMutation = `mutation($id: ID!, $in: ReviewTransactionInput!) { reviewTransaction(id: $id, input: $in) {
	id status reviewedAt reviewedBy { username } } }`

type reviewed struct {
	ID, Status string
	ReviewedAt *time.Time
	ReviewedBy *struct{ Username string }
}

// holdRule makes payments to the merchant "hold" score 65: REVIEW, a MEDIUM event and alert.
func holdRule(t *testing.T, e *testEnv) {
	t.Helper()
	admin := e.user(t, "hold-admin", domain.RoleAdmin)
	e.must(t, admin.AccessToken, `mutation { upsertRule(input: {name: "hold for review", condition: "merchant == \"hold\"", score: 65}) { id } }`, nil, nil)
}

// held submits a payment the hold rule keeps PENDING_REVIEW, for the caller
// or, by a payment system, for the user named.
func held(t *testing.T, e *testEnv, token string, forUser ...string) submitted {
	t.Helper()
	in := map[string]any{"amount": "120.00", "merchantId": "hold"}
	if len(forUser) > 0 {
		in["userId"] = forUser[0]
	}
	res := e.submit(t, token, in)
	if res.Transaction.Status != "PENDING_REVIEW" || res.Detection.Decision != "REVIEW" || (len(forUser) == 0 && (res.RiskEvent == nil || res.Alert == nil)) {
		t.Fatalf("held payment: got status %s, decision %s, event %v, alert %v; want PENDING_REVIEW, REVIEW, both",
			res.Transaction.Status, res.Detection.Decision, res.RiskEvent, res.Alert)
	}
	return res
}

type timelineEntry struct {
	Kind, Action, Note   string
	FromStatus, ToStatus *string
	Actor                *struct{ Username string }
	Details              map[string]any
}

func (e *testEnv) timeline(t *testing.T, token, eventID string) []timelineEntry {
	t.Helper()
	var out struct {
		RiskEvent struct{ Timeline []timelineEntry }
	}
	e.must(t, token, `query($id: ID!) { riskEvent(id: $id) { timeline { kind action note fromStatus toStatus actor { username } details } } }`,
		map[string]any{"id": eventID}, &out)
	return out.RiskEvent.Timeline
}

func TestReviewTransactionOnceThenConflict(t *testing.T) {
	e := newEnv(t)
	holdRule(t, e)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	res := held(t, e, alice.AccessToken)
	id := res.Transaction.ID

	e.mustFail(t, ana.AccessToken, reviewMutation, map[string]any{"id": id, "in": map[string]any{"decision": "APPROVE", "note": strings.Repeat("n", 2001)}}, "BAD_USER_INPUT")
	e.mustFail(t, ana.AccessToken, reviewMutation, map[string]any{"id": id, "in": map[string]any{"decision": "MAYBE"}}, "BAD_USER_INPUT")

	before := e.clock.Now()
	var out struct{ ReviewTransaction reviewed }
	e.must(t, ana.AccessToken, reviewMutation, map[string]any{"id": id, "in": map[string]any{"decision": "APPROVE", "note": "customer confirmed by phone"}}, &out)
	r := out.ReviewTransaction
	if r.Status != "APPROVED" || r.ReviewedBy == nil || r.ReviewedBy.Username != "ana" || r.ReviewedAt == nil || r.ReviewedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("review: got %+v, want APPROVED by ana, reviewedAt set", r)
	}

	// Once: a second review (either way) and a review of a transaction never held are CONFLICT.
	for _, decision := range []string{"DECLINE", "APPROVE"} {
		res := e.mustFail(t, ana.AccessToken, reviewMutation, map[string]any{"id": id, "in": map[string]any{"decision": decision}}, "CONFLICT")
		if !strings.Contains(res.Errors[0].Message, "APPROVED") {
			t.Fatalf("second review: got %q, want it to say the transaction is APPROVED", res.Errors[0].Message)
		}
	}
	plain := e.submit(t, alice.AccessToken, map[string]any{"amount": "12.00"})
	e.mustFail(t, ana.AccessToken, reviewMutation, map[string]any{"id": plain.Transaction.ID, "in": map[string]any{"decision": "DECLINE"}}, "CONFLICT")
	e.mustFail(t, ana.AccessToken, reviewMutation, map[string]any{"id": "999999999", "in": map[string]any{"decision": "DECLINE"}}, "NOT_FOUND")

	// Stored as answered; the customer sees when, not which analyst.
	var mine struct{ Transaction reviewed }
	e.must(t, alice.AccessToken, `query($id: ID!) { transaction(id: $id) { id status reviewedAt reviewedBy { username } } }`, map[string]any{"id": id}, &mine)
	if m := mine.Transaction; m.Status != "APPROVED" || m.ReviewedAt == nil || !m.ReviewedAt.Equal(*r.ReviewedAt) || m.ReviewedBy != nil {
		t.Fatalf("the customer's view: got %+v, want APPROVED, the same reviewedAt, no reviewer", m)
	}

	// The payment system that submitted a held payment reads its outcome, not who decided.
	gateway := e.user(t, "gateway", domain.RoleService)
	bob := e.user(t, "bob", domain.RoleUser)
	fed := held(t, e, gateway.AccessToken, bob.User.ID)
	e.must(t, ana.AccessToken, reviewMutation, map[string]any{"id": fed.Transaction.ID, "in": map[string]any{"decision": "DECLINE"}}, nil)
	e.must(t, gateway.AccessToken, `query($id: ID!) { transaction(id: $id) { id status reviewedAt reviewedBy { username } } }`, map[string]any{"id": fed.Transaction.ID}, &mine)
	if m := mine.Transaction; m.Status != "DECLINED" || m.ReviewedAt == nil || m.ReviewedBy != nil {
		t.Fatalf("SERVICE's view: got %+v, want DECLINED, reviewedAt set, no reviewer", m)
	}

	// On the event's timeline, once, with the note.
	var reviews []timelineEntry
	for _, en := range e.timeline(t, ana.AccessToken, res.RiskEvent.ID) {
		if en.Kind == "TRANSACTION" {
			reviews = append(reviews, en)
		}
	}
	if len(reviews) != 1 || reviews[0].Action != "REVIEW" || reviews[0].Note != "customer confirmed by phone" || reviews[0].Actor == nil ||
		reviews[0].Actor.Username != "ana" || *reviews[0].FromStatus != "PENDING_REVIEW" || *reviews[0].ToStatus != "APPROVED" || reviews[0].Details["decision"] != "APPROVE" {
		t.Fatalf("timeline: got %+v, want one TRANSACTION/REVIEW entry by ana PENDING_REVIEW → APPROVED with the note", reviews)
	}
	// And in the audit log, once.
	if n := e.count(t, `SELECT count(*) FROM audit_logs WHERE action = 'transaction.review' AND target_id = ?
		AND details->>'to' = 'APPROVED' AND details->>'note' = 'customer confirmed by phone'
		AND actor_id = (SELECT id FROM users WHERE username = 'ana')`, id); n != 1 {
		t.Fatalf("audit entries: got %d, want 1", n)
	}
}

func TestReviewTransactionConcurrentOneWins(t *testing.T) {
	e := newEnv(t)
	holdRule(t, e)
	alice := e.user(t, "alice", domain.RoleUser)
	analysts := make([]session, 10)
	for i := range analysts {
		analysts[i] = e.user(t, "ana"+string(rune('a'+i)), domain.RoleAnalyst)
	}
	id := held(t, e, alice.AccessToken).Transaction.ID

	codes := make([]string, len(analysts))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range analysts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			decision := map[bool]string{true: "APPROVE", false: "DECLINE"}[i%2 == 0]
			res := e.post(t, a.AccessToken, reviewMutation, map[string]any{"id": id, "in": map[string]any{"decision": decision}})
			codes[i] = res.code()
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, c := range codes {
		switch {
		case c == "" && winner >= 0:
			t.Fatalf("reviews %d and %d both succeeded: %v", winner, i, codes)
		case c == "":
			winner = i
		case c != "CONFLICT":
			t.Fatalf("review %d: got %q, want success or CONFLICT (%v)", i, c, codes)
		}
	}
	if winner < 0 {
		t.Fatalf("no review succeeded: %v", codes)
	}
	want := map[bool]string{true: "APPROVED", false: "DECLINED"}[winner%2 == 0]
	if n := e.count(t, `SELECT count(*) FROM transactions WHERE id = ? AND status = ?
		AND reviewed_by = (SELECT id FROM users WHERE username = ?)`, id, want, analysts[winner].User.Username); n != 1 {
		t.Fatalf("stored: want %s by %s", want, analysts[winner].User.Username)
	}
	if n := e.count(t, `SELECT count(*) FROM audit_logs WHERE action = 'transaction.review' AND target_id = ?`, id); n != 1 {
		t.Fatalf("audit entries: got %d, want 1", n)
	}
}

func TestVerdictSettlesHeldTransactionAndAlerts(t *testing.T) {
	e := newEnv(t)
	holdRule(t, e)
	alice := e.user(t, "alice", domain.RoleUser)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	type state struct{ tx, alert string }
	read := func(t *testing.T, res submitted) state {
		t.Helper()
		var out struct {
			Transaction struct {
				Status     string
				ReviewedBy *struct{ Username string }
			}
			Alert struct{ Status string }
		}
		e.must(t, ana.AccessToken, `query($t: ID!, $a: ID!) { transaction(id: $t) { status reviewedBy { username } } alert(id: $a) { status } }`,
			map[string]any{"t": res.Transaction.ID, "a": res.Alert.ID}, &out)
		return state{out.Transaction.Status, out.Alert.Status}
	}
	step := func(t *testing.T, res submitted, actions ...string) {
		t.Helper()
		for _, a := range actions {
			e.handle(t, ana.AccessToken, res.RiskEvent.ID, map[string]any{"action": a})
		}
	}

	tests := []struct {
		name    string
		prepare func(t *testing.T, res submitted)
		steps   []string
		want    state
	}{
		{name: "confirmed fraud declines", steps: []string{"START", "CONFIRM_FRAUD"}, want: state{"DECLINED", "RESOLVED"}},
		{name: "false positive approves", steps: []string{"START", "MARK_FALSE_POSITIVE"}, want: state{"APPROVED", "RESOLVED"}},
		{name: "an acknowledged alert resolves too", steps: []string{"START", "CONFIRM_FRAUD"}, want: state{"DECLINED", "RESOLVED"},
			prepare: func(t *testing.T, res submitted) {
				e.must(t, ana.AccessToken, `mutation($id: ID!) { handleAlert(id: $id, input: {action: ACKNOWLEDGE}) { status } }`, map[string]any{"id": res.Alert.ID}, nil)
			}},
		{name: "a dismissed alert stays dismissed", steps: []string{"START", "MARK_FALSE_POSITIVE"}, want: state{"APPROVED", "DISMISSED"},
			prepare: func(t *testing.T, res submitted) {
				e.must(t, ana.AccessToken, `mutation($id: ID!) { handleAlert(id: $id, input: {action: DISMISS}) { status } }`, map[string]any{"id": res.Alert.ID}, nil)
			}},
		{name: "a reviewed transaction keeps its review", steps: []string{"START", "CONFIRM_FRAUD"}, want: state{"APPROVED", "RESOLVED"},
			prepare: func(t *testing.T, res submitted) {
				e.must(t, ana.AccessToken, reviewMutation, map[string]any{"id": res.Transaction.ID, "in": map[string]any{"decision": "APPROVE"}}, nil)
			}},
		// An event settled before verdicts resolved alerts: closing it does.
		{name: "close resolves what is still open", steps: []string{"CLOSE"}, want: state{"APPROVED", "RESOLVED"},
			prepare: func(t *testing.T, res submitted) {
				step(t, res, "START", "MARK_FALSE_POSITIVE")
				if _, err := e.db.ExecContext(context.Background(), `UPDATE alerts SET status = 'NEW', handled_by = NULL, handled_at = NULL WHERE id = ?`, res.Alert.ID); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A customer each: more held payments from one would trip the velocity rule.
			res := held(t, e, e.user(t, fmt.Sprintf("customer-%d", i), domain.RoleUser).AccessToken)
			if tt.prepare != nil {
				tt.prepare(t, res)
			}
			step(t, res, tt.steps...)
			if got := read(t, res); got != tt.want {
				t.Fatalf("got transaction %s, alert %s; want %s, %s", got.tx, got.alert, tt.want.tx, tt.want.alert)
			}
			if tt.want.alert == "RESOLVED" {
				last := tt.steps[len(tt.steps)-1]
				if n := e.count(t, `SELECT count(*) FROM handling_records WHERE alert_id = ? AND action = 'RESOLVE' AND to_status = 'RESOLVED'
					AND note = 'resolved with its event (' || ? || ')'`, res.Alert.ID, last); n != 1 {
					t.Fatalf("alert handling records: got %d RESOLVE by %s, want 1", n, last)
				}
			}
		})
	}

	// The verdict names what it changed, and the reviewer is the analyst.
	res := held(t, e, alice.AccessToken)
	step(t, res, "START", "CONFIRM_FRAUD")
	tl := e.timeline(t, ana.AccessToken, res.RiskEvent.ID)
	last := tl[len(tl)-1]
	if last.Action != "CONFIRM_FRAUD" || last.Details["transactionStatus"] != "DECLINED" || len(last.Details["resolvedAlertIds"].([]any)) != 1 {
		t.Fatalf("verdict timeline entry: got %+v, want CONFIRM_FRAUD naming DECLINED and one resolved alert", last)
	}
	if n := e.count(t, `SELECT count(*) FROM transactions WHERE id = ? AND reviewed_by = (SELECT id FROM users WHERE username = 'ana') AND reviewed_at IS NOT NULL`,
		res.Transaction.ID); n != 1 {
		t.Fatal("the verdict's transaction: want reviewed by ana")
	}
}

func TestReviewDeadlineSettlesOnOneInstance(t *testing.T) {
	db, dbURL := pgtest.New(t)
	a := newEnvOn(t, db, dbURL) // no deadline: the instance payments arrive on
	holdRule(t, a)
	alice := a.user(t, "alice", domain.RoleUser)
	ana := a.user(t, "ana", domain.RoleAnalyst)
	bob := a.user(t, "bob", domain.RoleUser)
	var forgotten []submitted
	for _, customer := range []session{alice, alice, bob, bob} {
		forgotten = append(forgotten, held(t, a, customer.AccessToken))
	}
	kept := held(t, a, alice.AccessToken)
	a.must(t, ana.AccessToken, reviewMutation, map[string]any{"id": kept.Transaction.ID, "in": map[string]any{"decision": "APPROVE"}}, nil)

	deadline := cases.ReviewDeadline{Timeout: time.Second, Action: domain.ReviewDecline}
	ctx := context.Background()

	// While another instance sweeps (holds the sweep's lock), an instance does nothing.
	release, ok, err := store.TryJobSlot(ctx, db, store.JobReviewDeadline, 1)
	if err != nil || !ok {
		t.Fatalf("take the sweep's lock: %v %v", ok, err)
	}
	a.clock.Advance(time.Hour)
	if n, ran, err := a.app.cases.SweepOverdueReviews(ctx, deadline); err != nil || ran || n != 0 {
		t.Fatalf("sweep while another instance sweeps: got %d settled, ran %v, err %v; want nothing", n, ran, err)
	}
	release()
	a.clock.Advance(-time.Hour)

	// Three instances sweep every 100 ms (a tenth of the 1 s timeout).
	for range 3 {
		newEnvOnWith(t, db, dbURL, func(c *config) { c.ReviewDeadline = deadline })
	}
	for wait := time.Now(); a.count(t, `SELECT count(*) FROM transactions WHERE status = 'PENDING_REVIEW'`) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Since(wait) > 20*time.Second {
			t.Fatal("the review deadline settled nothing in 20 s")
		}
	}
	for _, f := range forgotten {
		id := f.Transaction.ID
		if n := a.count(t, `SELECT count(*) FROM transactions WHERE id = ? AND status = 'DECLINED' AND reviewed_by IS NULL AND reviewed_at IS NOT NULL`, id); n != 1 {
			t.Fatalf("transaction %s: want DECLINED by the system", id)
		}
		if n := a.count(t, `SELECT count(*) FROM audit_logs WHERE action = 'transaction.review_deadline' AND target_id = ? AND actor_id IS NULL
			AND details->>'decision' = 'DECLINE'`, id); n != 1 {
			t.Fatalf("transaction %s: got %d deadline audit entries, want exactly 1", id, n)
		}
		var entries []timelineEntry
		for _, en := range a.timeline(t, ana.AccessToken, f.RiskEvent.ID) {
			if en.Kind == "TRANSACTION" {
				entries = append(entries, en)
			}
		}
		if len(entries) != 1 || entries[0].Action != "REVIEW_DEADLINE" || entries[0].Actor != nil || *entries[0].ToStatus != "DECLINED" ||
			!strings.Contains(entries[0].Note, "review deadline") {
			t.Fatalf("transaction %s timeline: got %+v, want one REVIEW_DEADLINE entry by no one", id, entries)
		}
	}
	if n := a.count(t, `SELECT count(*) FROM transactions WHERE id = ? AND status = 'APPROVED' AND reviewed_by IS NOT NULL`, kept.Transaction.ID); n != 1 {
		t.Fatal("the reviewed transaction: want it left APPROVED by its analyst")
	}
	if n := a.count(t, `SELECT count(*) FROM audit_logs WHERE action = 'transaction.review_deadline'`); n != len(forgotten) {
		t.Fatalf("deadline audit entries: got %d, want %d", n, len(forgotten))
	}
}

func TestServiceReadsItsOwnLabelNote(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "alice", domain.RoleUser)
	gateway := e.user(t, "gateway", domain.RoleService)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	res := e.submit(t, gateway.AccessToken, map[string]any{"userId": alice.User.ID, "amount": "40.00"})
	label := `mutation($id: ID!, $l: Label!, $n: String) { labelTransaction(id: $id, label: $l, note: $n) { source note } }`
	var out struct{ LabelTransaction struct{ Source, Note string } }
	e.must(t, gateway.AccessToken, label, map[string]any{"id": res.Transaction.ID, "l": "FRAUD", "n": "chargeback 4837"}, &out)
	if out.LabelTransaction.Source != "CHARGEBACK" || out.LabelTransaction.Note != "chargeback 4837" {
		t.Fatalf("the feed's own label: got %+v, want CHARGEBACK with its note", out.LabelTransaction)
	}
	view := `query($id: ID!) { transaction(id: $id) { label { source note } } }`
	var read struct {
		Transaction struct {
			Label *struct{ Source, Note string }
		}
	}
	e.must(t, gateway.AccessToken, view, map[string]any{"id": res.Transaction.ID}, &read)
	if l := read.Transaction.Label; l == nil || l.Note != "chargeback 4837" {
		t.Fatalf("read back: got %+v, want the note", l)
	}
	// An analyst's verdict (and its note) stays the institution's.
	e.must(t, ana.AccessToken, label, map[string]any{"id": res.Transaction.ID, "l": "LEGITIMATE", "n": "customer's own purchase"}, nil)
	e.must(t, gateway.AccessToken, view, map[string]any{"id": res.Transaction.ID}, &read)
	if read.Transaction.Label != nil {
		t.Fatalf("an analyst's verdict to SERVICE: got %+v, want null", read.Transaction.Label)
	}
}

// A review, the event's verdict and the alert's handling racing on one case
// all finish (no deadlock, no internal error) and leave it consistent.
func TestReviewRacesVerdictAndAlertHandling(t *testing.T) {
	e := newEnv(t)
	holdRule(t, e)
	ana := e.user(t, "ana", domain.RoleAnalyst)
	lead := e.user(t, "lead", domain.RoleAnalyst)
	ops := e.user(t, "ops", domain.RoleAnalyst)
	for i := range 15 {
		res := held(t, e, e.user(t, fmt.Sprintf("racer-%d", i), domain.RoleUser).AccessToken)
		e.handle(t, ana.AccessToken, res.RiskEvent.ID, map[string]any{"action": "START"})
		calls := []func() gqlResponse{
			func() gqlResponse {
				return e.post(t, ana.AccessToken, reviewMutation, map[string]any{"id": res.Transaction.ID, "in": map[string]any{"decision": "APPROVE"}})
			},
			func() gqlResponse {
				return e.post(t, lead.AccessToken, handleEvent, map[string]any{"id": res.RiskEvent.ID, "in": map[string]any{"action": "CONFIRM_FRAUD"}})
			},
			func() gqlResponse {
				return e.post(t, ops.AccessToken, `mutation($id: ID!) { handleAlert(id: $id, input: {action: ACKNOWLEDGE}) { status } }`, map[string]any{"id": res.Alert.ID})
			},
		}
		codes := make([]string, len(calls))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for j, call := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[j] = call().code()
			}()
		}
		close(start)
		wg.Wait()
		if codes[1] != "" || (codes[0] != "" && codes[0] != "CONFLICT") || (codes[2] != "" && codes[2] != "CONFLICT") {
			t.Fatalf("round %d: got review %q, verdict %q, acknowledge %q; want the verdict to succeed, the others to succeed or CONFLICT", i, codes[0], codes[1], codes[2])
		}
		want := map[bool]string{true: "APPROVED", false: "DECLINED"}[codes[0] == ""]
		if n := e.count(t, `SELECT count(*) FROM transactions WHERE id = ? AND status = ?`, res.Transaction.ID, want); n != 1 {
			t.Fatalf("round %d: want the transaction %s (review %q)", i, want, codes[0])
		}
		if n := e.count(t, `SELECT count(*) FROM alerts WHERE id = ? AND status = 'RESOLVED'`, res.Alert.ID); n != 1 {
			t.Fatalf("round %d: want the alert RESOLVED by the verdict", i)
		}
	}
}
