package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// resetAudits counts the password resets the audit log holds for via.
func resetAudits(t *testing.T, e *testEnv, via string) int {
	t.Helper()
	n, err := e.db.NewSelect().Table("audit_logs").Where("action = 'auth.password_reset'").
		Where("details->>'via' = ?", via).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// Restarting with a new DEMO_PASSWORD recovers the demo staff accounts: the
// password applies at every start, ends the sessions opened with the old one,
// and a restart with the same password changes nothing.
func TestDemoPasswordAppliesAtEveryStart(t *testing.T) {
	db, dbURL := pgtest.New(t)
	start := func(password string) *testEnv {
		return newEnvOnWith(t, db, dbURL, func(c *config) { c.Demo, c.DemoPassword = true, password })
	}
	first := start("first demo passphrase")
	old := first.login(t, "analyst", "first demo passphrase")
	first.app.Close()

	second := start("second demo passphrase")
	var sessions []session
	for _, name := range []string{"analyst", "admin", "gateway"} {
		sessions = append(sessions, second.login(t, name, "second demo passphrase"))
		second.mustFail(t, "", loginMutation, loginVars(name, "first demo passphrase"), "UNAUTHENTICATED")
	}
	second.mustFail(t, old.AccessToken, `{ me { id } }`, nil, "UNAUTHENTICATED")
	if got := resetAudits(t, second, "DEMO_PASSWORD"); got != 3 {
		t.Errorf("password resets audited: got %d; want 3 (analyst, admin, gateway)", got)
	}
	// Customers keep the seed password.
	second.login(t, "alice", "123456")
	second.app.Close()

	third := start("second demo passphrase")
	for _, s := range sessions {
		third.must(t, s.AccessToken, `{ me { id } }`, nil, nil)
	}
	if got := resetAudits(t, third, "DEMO_PASSWORD"); got != 3 {
		t.Errorf("password resets audited after an unchanged restart: got %d; want still 3", got)
	}
	third.app.Close()

	// Without DEMO_PASSWORD a restart leaves the passwords alone.
	fourth := start("")
	fourth.login(t, "admin", "second demo passphrase")
}

// `riskgraph reset-password` lets whoever runs the server back into a locked-out
// account: the new password comes from stdin, old sessions and failed logins end.
func TestResetPasswordCommand(t *testing.T) {
	e := newEnv(t)
	before := e.user(t, "opsadmin", domain.RoleAdmin)
	for range 6 {
		e.post(t, "", loginMutation, loginVars("opsadmin", "not the password"))
	}
	e.mustFail(t, "", loginMutation, loginVars("opsadmin", "correct horse battery"), "RATE_LIMITED")

	reset := func(stdin string, args ...string) (string, error) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		io.WriteString(w, stdin) //nolint:errcheck // a small write to a fresh pipe
		w.Close()
		var stderr bytes.Buffer
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		err = resetPassword(context.Background(), testConfig(e.url, e.clock), e.db, log, args, r, &stderr)
		return stderr.String(), err
	}
	out, err := reset("a brand new passphrase\n", "opsadmin")
	if err != nil {
		t.Fatalf("reset-password: %v (%s)", err, out)
	}
	if strings.Contains(out, "brand new") {
		t.Errorf("reset-password echoed the password: %q", out)
	}
	e.mustFail(t, before.AccessToken, `{ me { id } }`, nil, "UNAUTHENTICATED")
	e.login(t, "opsadmin", "a brand new passphrase")
	if got := resetAudits(t, e, "riskgraph reset-password"); got != 1 {
		t.Errorf("password resets audited: got %d; want 1", got)
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"unknown user", "a brand new passphrase\n", []string{"nobody"}, `no user named "nobody"`},
		{"policy", "short\n", []string{"opsadmin"}, "must be"},
		{"nothing on stdin", "", []string{"opsadmin"}, "no password on stdin"},
		{"no username", "a brand new passphrase\n", nil, "want exactly one username"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := reset(tt.stdin, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// Demo accounts are older than the history written for them, so no demo
// customer reads as a brand-new account that already has a week of payments.
func TestDemoAccountsPredateTheirHistory(t *testing.T) {
	db, dbURL := pgtest.New(t)
	e := newEnvOnWith(t, db, dbURL, func(c *config) { c.Demo, c.DemoPassword = true, "a demo passphrase" })
	ctx := context.Background()
	var payments, early int
	if err := e.db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE t.occurred_at <= u.created_at)
		FROM transactions t JOIN users u ON u.id = t.user_id`).Scan(ctx, &payments, &early); err != nil {
		t.Fatal(err)
	}
	if payments == 0 || early != 0 {
		t.Fatalf("demo payments: %d, of which %d before their account was opened; want some, none before", payments, early)
	}
	var customer struct {
		ID string `bun:"id"`
	}
	if err := e.db.NewRaw(`SELECT id::text AS id FROM users WHERE username = 'customer08'`).Scan(ctx, &customer); err != nil {
		t.Fatal(err)
	}
	analyst := e.login(t, "analyst", "a demo passphrase")
	var out struct {
		User struct {
			Transactions struct{ TotalCount int }
			RiskProfile  struct {
				Reasons []struct{ Factor, Detail string }
			}
		}
	}
	e.must(t, analyst.AccessToken, `query($id: ID!) { user(id: $id) { transactions { totalCount } riskProfile { reasons { factor detail } } } }`,
		map[string]any{"id": customer.ID}, &out)
	if out.User.Transactions.TotalCount == 0 {
		t.Fatal("customer08 has no demo payments")
	}
	for _, r := range out.User.RiskProfile.Reasons {
		if r.Factor == "NEW_ACCOUNT" {
			t.Errorf("customer08, with %d payments over a week, reads as a new account: %s", out.User.Transactions.TotalCount, r.Detail)
		}
	}
}
