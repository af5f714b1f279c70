package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// TestDeviceWindowFeatures computes seed 004's device features — every
// user's count and amount on the device in 24 hours, minutes since its
// previous sighting, new to everyone in 7 days — on a constructed history
// submitted in event time, and checks the stored snapshot exactly.
func TestDeviceWindowFeatures(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin)
	users := map[string]string{}
	for _, name := range []string{"ann", "ben", "cat"} {
		users[name] = e.user(t, name, domain.RoleUser).User.ID
	}
	t0 := e.clock.Now().UTC().Truncate(time.Hour).Add(-20 * 24 * time.Hour)
	pay := func(user string, at time.Time, amount float64, device string) submitted {
		t.Helper()
		in := map[string]any{"userId": users[user], "amount": amount, "merchantId": "m-1", "occurredAt": at.Format(time.RFC3339Nano)}
		if device != "" {
			in["deviceId"] = device
		}
		return e.submit(t, admin.AccessToken, in)
	}
	check := func(t *testing.T, res submitted, want map[string]any) {
		t.Helper()
		for name, w := range want {
			got := res.feature(name)
			if wf, ok := w.(float64); ok {
				if gf, ok := got.(float64); !ok || math.Abs(gf-wf) > 1e-9 {
					t.Errorf("%s: got %v; want %v", name, got, w)
				}
				continue
			}
			if got != w {
				t.Errorf("%s: got %v (%T); want %v", name, got, got, w)
			}
		}
	}

	first := pay("ann", t0, 100, "tab")
	t.Run("first sighting", func(t *testing.T) {
		check(t, first, map[string]any{
			"device.txCount24h": 1.0, "device.amount24h": 100.0, "device.lastSeenMinutes": -1.0,
			"device.newToAll7d": true, "device.new": true,
		})
	})
	// Three users on one device within a day; ann's first payment is 25 hours before the last.
	pay("ben", t0.Add(2*time.Hour), 40.5, "tab")
	pay("cat", t0.Add(20*time.Hour), 9.5, "tab")
	shared := pay("ben", t0.Add(25*time.Hour), 50, "tab")
	t.Run("shared within a day", func(t *testing.T) {
		check(t, shared, map[string]any{
			// ann's 100 left the window; ben's 40.5, cat's 9.5 and this 50 are in it.
			"device.txCount24h": 3.0, "device.amount24h": 100.0, "device.lastSeenMinutes": 300.0,
			"device.newToAll7d": false, "user.txCount24h": 2.0,
		})
	})
	// A backdated payment sees only what happened before it.
	backdated := pay("cat", t0.Add(90*time.Minute), 1, "tab")
	t.Run("event time", func(t *testing.T) {
		check(t, backdated, map[string]any{
			"device.txCount24h": 2.0, "device.amount24h": 101.0, "device.lastSeenMinutes": 90.0, "device.newToAll7d": false,
		})
	})
	// Eight quiet days: new to everyone again, though not a first sighting;
	// new to cat too (the per-user flag).
	later := t0.Add(25*time.Hour + 8*24*time.Hour)
	quiet := pay("cat", later, 7, "tab")
	t.Run("quiet for eight days", func(t *testing.T) {
		check(t, quiet, map[string]any{
			"device.txCount24h": 1.0, "device.amount24h": 7.0, "device.lastSeenMinutes": 8 * 24 * 60.0,
			"device.newToAll7d": true, "device.new": true,
		})
	})
	// Another user's successful login on the device is a sighting: six days
	// later the device is neither new to everyone nor unseen; a failed login is not.
	loginAt := later.Add(6 * 24 * time.Hour)
	for _, l := range []struct {
		at      time.Time
		success bool
	}{{loginAt, true}, {loginAt.Add(30 * time.Minute), false}} {
		if _, err := e.db.NewRaw(`INSERT INTO login_logs (user_id, username, success, device_fingerprint, created_at) VALUES (?, 'ann', ?, 'tab', ?)`,
			users["ann"], l.success, l.at).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	afterLogin := pay("cat", loginAt.Add(time.Hour), 3, "tab")
	t.Run("a login is a sighting", func(t *testing.T) {
		check(t, afterLogin, map[string]any{
			"device.txCount24h": 1.0, "device.amount24h": 3.0, "device.lastSeenMinutes": 60.0,
			"device.newToAll7d": false, "device.new": false,
		})
	})
	// Without a device every device feature is at rest.
	none := pay("ann", loginAt.Add(2*time.Hour), 5, "")
	t.Run("no device", func(t *testing.T) {
		check(t, none, map[string]any{
			"device.txCount24h": 0.0, "device.amount24h": 0.0, "device.lastSeenMinutes": -1.0, "device.newToAll7d": false,
		})
	})
}
