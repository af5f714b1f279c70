package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// entityPay is one payment of a constructed history; empty fields are not sent.
type entityPay struct {
	user     string
	at       time.Time
	amount   float64
	merchant string
	category string
	device   string
	ip       string
	where    map[string]any
}

// entityHarness submits constructed histories in event time and checks the
// stored feature snapshots exactly.
type entityHarness struct {
	e     *testEnv
	token string
	users map[string]string
}

func newEntityHarness(t *testing.T, names ...string) *entityHarness {
	e := newEnv(t)
	h := &entityHarness{e: e, token: e.user(t, "root", domain.RoleAdmin).AccessToken, users: map[string]string{}}
	for _, name := range names {
		h.users[name] = e.user(t, "ef_"+name, domain.RoleUser).User.ID
	}
	return h
}

func (h *entityHarness) pay(t *testing.T, p entityPay) submitted {
	t.Helper()
	in := map[string]any{"userId": h.users[p.user], "amount": p.amount, "occurredAt": p.at.Format(time.RFC3339Nano)}
	for key, v := range map[string]string{"merchantId": p.merchant, "merchantCategory": p.category, "deviceId": p.device, "ipAddress": p.ip} {
		if v != "" {
			in[key] = v
		}
	}
	if p.where != nil {
		in["location"] = p.where
	}
	return h.e.submit(t, h.token, in)
}

func (h *entityHarness) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := h.e.db.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func checkFeatures(t *testing.T, res submitted, want map[string]any) {
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

// TestMerchantAndIPFeatures: merchantStats.*, ip.* and device.accounts1h on
// one constructed hour at a merchant, an IPv4 /24 and an IPv6 /48 — window
// edges excluded, later (event-time) payments unseen.
func TestMerchantAndIPFeatures(t *testing.T) {
	h := newEntityHarness(t, "vic", "p1", "p2", "p3", "p4")
	at := h.e.clock.Now().UTC().Truncate(time.Hour).Add(-10 * 24 * time.Hour)
	// Account ages at `at`: vic 40 days, p1 10, p2 20, p3 30.
	for name, days := range map[string]int{"vic": 40, "p1": 10, "p2": 20, "p3": 30, "p4": 1} {
		h.exec(t, `UPDATE users SET created_at = ? WHERE id = ?`, at.Add(-time.Duration(days)*24*time.Hour), h.users[name])
	}
	const addr, neighbour = "203.0.113.7", "203.0.113.9"
	for _, p := range []entityPay{
		{user: "p2", at: at.Add(-30 * time.Hour), amount: 20, merchant: "m-other", device: "d-old", ip: "198.51.100.1"},
		{user: "p3", at: at.Add(-24 * time.Hour), amount: 20, merchant: "m-other", device: "d-x", ip: addr}, // the 24-hour edge
		{user: "p3", at: at.Add(-23 * time.Hour), amount: 20, merchant: "m-other", device: "d-x", ip: addr},
		{user: "p3", at: at.Add(-61 * time.Minute), amount: 5, merchant: "m-shop", device: "d-x", ip: "198.51.100.1"},
		{user: "p1", at: at.Add(-60 * time.Minute), amount: 5, merchant: "m-shop", device: "d-new1", ip: addr}, // the hour's edge
		{user: "p3", at: at.Add(-50 * time.Minute), amount: 20, merchant: "m-other", device: "d-old"},
		{user: "p1", at: at.Add(-59 * time.Minute), amount: 5, merchant: "m-shop", device: "d-new1", ip: addr},
		{user: "p2", at: at.Add(-10 * time.Minute), amount: 50, merchant: "m-shop", device: "d-old", ip: neighbour}, // the 10-minute edge
		{user: "p2", at: at.Add(-5 * time.Minute), amount: 3, merchant: "m-shop", device: "d-old", ip: neighbour},
		// Later in event time, submitted first: unseen.
		{user: "p4", at: at.Add(5 * time.Minute), amount: 1, merchant: "m-shop", device: "d-fut", ip: addr},
	} {
		h.pay(t, p)
	}
	// Each payment records its device's first sighting and its payer's
	// creation; rows written before that was recorded hold NULL and are
	// looked up instead: p1's stand for them, with the same features.
	var recorded, d1, p2Created int
	if err := h.e.db.NewRaw(`SELECT count(*) FILTER (WHERE t.device_first_seen_at = d.first_seen_at AND t.user_created_at = u.created_at),
		count(*) FILTER (WHERE d.fingerprint = 'd-new1' AND t.device_first_seen_at = ?),
		count(*) FILTER (WHERE u.id = ? AND t.user_created_at = ?)
		FROM transactions t JOIN devices d ON d.id = t.device_id JOIN users u ON u.id = t.user_id WHERE t.user_id <> ?`,
		at.Add(-60*time.Minute), h.users["p2"], at.Add(-20*24*time.Hour), h.users["vic"]).Scan(context.Background(), &recorded, &d1, &p2Created); err != nil {
		t.Fatal(err)
	}
	if recorded != 10 || d1 != 2 || p2Created != 3 {
		t.Errorf("payments recording their facts: %d of 10 as their device and user are; d-new1's first sighting on %d of 2, p2's creation on %d of 3",
			recorded, d1, p2Created)
	}
	h.exec(t, `UPDATE transactions SET device_first_seen_at = NULL, user_created_at = NULL WHERE user_id = ?`, h.users["p1"])
	scored := h.pay(t, entityPay{user: "vic", at: at, amount: 8, merchant: "m-shop", device: "d-vic", ip: addr})
	t.Run("merchant", func(t *testing.T) {
		checkFeatures(t, scored, map[string]any{
			// p2 (5 minutes ago) and vic; p1 (59 minutes ago), p2 and vic.
			"merchantStats.payers10m": 2.0, "merchantStats.payers1h": 3.0,
			// d-new1 first seen an hour ago and vic's unseen device are new; d-old (30 hours) is not.
			"merchantStats.newDevices10m": 1.0, "merchantStats.newDevices1h": 2.0,
			// 5, 50, 3 and this 8: three under SMALL_AMOUNT.
			"merchantStats.tinyShare1h": 0.75,
			// p1 10 days, p2 20, vic 40.
			"merchantStats.payerMedianAgeDays1h": 20.0,
			"device.accounts1h":                  1.0, "device.usual": false,
		})
	})
	t.Run("IPv4 address and /24", func(t *testing.T) {
		checkFeatures(t, scored, map[string]any{
			// 24 hours: p3 (d-x), p1 (d-new1) and vic (d-vic); 10 minutes: vic alone.
			"ip.users24h": 3.0, "ip.devices24h": 3.0, "ip.users10m": 1.0, "ip.devices10m": 1.0,
			// The /24 adds p2 on d-old, who is also in its last 10 minutes.
			"ip.subnetUsers24h": 4.0, "ip.subnetDevices24h": 4.0, "ip.subnetUsers10m": 2.0, "ip.subnetDevices10m": 2.0,
		})
	})

	// p1 on d-old, which p2 paid from 15 and 20 minutes before and p3 exactly an hour before; no address.
	shared := h.pay(t, entityPay{user: "p1", at: at.Add(10 * time.Minute), amount: 30, merchant: "m-other", device: "d-old"})
	t.Run("device accounts and no address", func(t *testing.T) {
		checkFeatures(t, shared, map[string]any{
			"device.accounts1h": 2.0, "ip.users24h": 0.0, "ip.subnetUsers24h": 0.0, "ip.devices10m": 0.0,
		})
	})
	none := h.pay(t, entityPay{user: "p3", at: at.Add(12 * time.Minute), amount: 30, ip: addr})
	t.Run("no merchant, no device", func(t *testing.T) {
		checkFeatures(t, none, map[string]any{
			"merchantStats.payers1h": 0.0, "merchantStats.newDevices1h": 0.0, "merchantStats.tinyShare1h": 0.0,
			"merchantStats.payerMedianAgeDays1h": -1.0, "device.accounts1h": 0.0,
			// 10 minutes: p4 (on d-fut, 7 minutes before) and p3; 24 hours: p3 (d-x), p1 (d-new1), vic (d-vic) and p4 (d-fut).
			"ip.users10m": 2.0, "ip.users24h": 4.0, "ip.devices10m": 1.0, "ip.devices24h": 4.0,
		})
	})

	// IPv6: the /48 groups 2001:db8:1::/48, not 2001:db8:2::/48; an
	// IPv4-mapped address counts in its IPv4 /24.
	h.pay(t, entityPay{user: "p1", at: at.Add(15 * time.Minute), amount: 10, merchant: "m-v6", ip: "2001:db8:1:aa::5"})
	h.pay(t, entityPay{user: "p2", at: at.Add(16 * time.Minute), amount: 10, merchant: "m-v6", ip: "2001:db8:2::5"})
	v6 := h.pay(t, entityPay{user: "vic", at: at.Add(20 * time.Minute), amount: 10, merchant: "m-v6", ip: "2001:db8:1:ff::1"})
	t.Run("IPv6 /48", func(t *testing.T) {
		checkFeatures(t, v6, map[string]any{
			"ip.users10m": 1.0, "ip.subnetUsers10m": 2.0, "ip.subnetUsers24h": 2.0, "ip.subnetDevices24h": 0.0,
		})
	})
	mapped := h.pay(t, entityPay{user: "p4", at: at.Add(30 * time.Minute), amount: 10, ip: "::ffff:203.0.113.8"})
	t.Run("IPv4-mapped", func(t *testing.T) {
		checkFeatures(t, mapped, map[string]any{
			// p3, p1, p2, vic and p4 in the /24; nobody else at this address.
			"ip.users24h": 1.0, "ip.subnetUsers24h": 5.0,
		})
	})
}

// TestMultiDayFeatures: the near line, the spend ratios, new merchants and
// the personal baselines on a constructed 40 days, edges and later payments
// included in the history to show they don't count.
func TestMultiDayFeatures(t *testing.T) {
	h := newEntityHarness(t, "slow", "few")
	// Midnight UTC: the hour-of-day baseline wraps around it.
	at := h.e.clock.Now().UTC().Truncate(24 * time.Hour).Add(-5 * 24 * time.Hour)
	day := 24 * time.Hour
	// Beyond the submission's 30-day backfill: stored directly.
	for _, p := range []entityPay{
		{at: at.Add(-40*day + 5*time.Hour), amount: 1000, merchant: "m-a"},
		{at: at.Add(-37 * day), amount: 500, merchant: "m-z"}, // the baseline's edge
		{at: at.Add(-36*day - time.Hour), amount: 300, merchant: "m-a", category: "grocery"},
	} {
		h.exec(t, `INSERT INTO transactions (user_id, amount, currency, merchant_id, merchant_category, status, submitted_by, occurred_at)
			VALUES (?, ?, 'CNY', ?, nullif(?, ''), 'APPROVED', ?, ?)`, h.users["slow"], p.amount, p.merchant, p.category, h.users["slow"], p.at)
	}
	for _, p := range []entityPay{
		{at: at.Add(-20*day + 2*time.Hour), amount: 300, merchant: "m-b"},
		{at: at.Add(-7 * day), amount: 9500, merchant: "m-c"}, // the week's edge: in the baseline, not the week
		{at: at.Add(-3 * day), amount: 9000, merchant: "m-c"}, // the 72 hours' edge
		{at: at.Add(-2 * day), amount: 9999.99, merchant: "m-d"},
		{at: at.Add(-time.Hour), amount: 10000, merchant: "m-a"}, // at the line: not under it
		{at: at.Add(-30 * time.Minute), amount: 50, merchant: "m-d"},
		{at: at.Add(time.Hour), amount: 9500, merchant: "m-f"}, // later: unseen
	} {
		p.user = "slow"
		h.pay(t, p)
	}
	scored := h.pay(t, entityPay{user: "slow", at: at, amount: 9100, merchant: "m-g", category: "Furniture"})
	t.Run("multi-day", func(t *testing.T) {
		week := 9000 + 9999.99 + 10000 + 50 + 9100.0
		checkFeatures(t, scored, map[string]any{
			// 9,000, 9,999.99 and this 9,100.
			"user.nearLineCount7d": 3.0,
			// The 30 days before the week: 300, 300 and 9,500.
			"user.spend7dToDailyAvg30d": week / (7 * 10100.0 / 30),
			// 10,000 + 50 + 9,100 today against 9,000 + 9,999.99 over the 6 days before.
			"user.spendAcceleration": 19150 / ((9000 + 9999.99) / 6),
			// 24 hours: m-a (last paid 36 days ago) and m-g are new, m-d (2 days ago) is not.
			// 72 hours: m-d, m-a and m-g; m-c was paid exactly 72 hours ago, before the window.
			"user.newMerchants24h": 2.0, "user.newMerchants72h": 3.0,
		})
	})
	t.Run("personal baselines", func(t *testing.T) {
		checkFeatures(t, scored, map[string]any{
			// Nine previous payments; 1,000, 500, 300, 300, 9,000 and 50 are smaller.
			"user.amountPercentile": 6.0 / 9,
			// Hours 5 and 2 are more than an hour from midnight; 23 (three times) and 0 (four) are not.
			"user.hourTypicality": 7.0 / 9,
			"user.newCategory":    true,
		})
	})
	again := h.pay(t, entityPay{user: "slow", at: at.Add(time.Minute), amount: 20, merchant: "m-g", category: "GROCERY"})
	t.Run("known category", func(t *testing.T) {
		checkFeatures(t, again, map[string]any{"user.newCategory": false, "user.newMerchants24h": 2.0})
	})
	for i := range 4 {
		h.pay(t, entityPay{user: "few", at: at.Add(time.Duration(i-10) * time.Hour), amount: 10, merchant: "m-a"})
	}
	fifth := h.pay(t, entityPay{user: "few", at: at, amount: 20, merchant: "m-b", category: "toys"})
	t.Run("fewer than 5 previous", func(t *testing.T) {
		checkFeatures(t, fifth, map[string]any{
			"user.amountPercentile": -1.0, "user.hourTypicality": -1.0, "user.newCategory": false,
			"user.spend7dToDailyAvg30d": 0.0, "user.spendAcceleration": 0.0, "user.nearLineCount7d": 0.0,
		})
	})
}

// TestJourneyContext: geo.travelBooked, geo.loginNearDestination,
// device.usual and geo.plausibleJourney on a constructed trip.
func TestJourneyContext(t *testing.T) {
	h := newEntityHarness(t, "trav")
	at := h.e.clock.Now().UTC().Truncate(24 * time.Hour).Add(-3 * 24 * time.Hour)
	day := 24 * time.Hour
	shanghai := map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN"}
	berlin := map[string]any{"latitude": 52.52, "longitude": 13.405}
	munich := map[string]any{"latitude": 48.137, "longitude": 11.575, "country": "DE"}
	potsdam := map[string]any{"latitude": 52.39, "longitude": 13.06}
	h.pay(t, entityPay{user: "trav", at: at.Add(-14*day + time.Hour), amount: 800, merchant: "m-air", category: "Airline"})
	for _, d := range []time.Duration{10, 9, 8} {
		h.pay(t, entityPay{user: "trav", at: at.Add(-d * day), amount: 30, merchant: "m-home", device: "phone", where: shanghai})
	}
	login := func(at time.Time, lat, lon float64, country any) {
		h.exec(t, `INSERT INTO login_logs (user_id, username, success, latitude, longitude, country, created_at) VALUES (?, 'trav', true, ?, ?, ?, ?)`,
			h.users["trav"], lat, lon, country, at)
	}

	arrival := h.pay(t, entityPay{user: "trav", at: at, amount: 120, merchant: "m-cafe", device: "phone", where: berlin})
	t.Run("booked trip on the usual phone", func(t *testing.T) {
		checkFeatures(t, arrival, map[string]any{
			"geo.travelBooked": true, "geo.loginNearDestination": false, "device.usual": true, "geo.plausibleJourney": true,
		})
	})
	// A login from Potsdam, 27 km from Berlin; one from Hamburg ("de"), 612 km from Munich.
	login(at.Add(time.Hour), 52.39, 13.06, nil)
	near := h.pay(t, entityPay{user: "trav", at: at.Add(2 * time.Hour), amount: 20, merchant: "m-cafe", device: "phone", where: berlin})
	t.Run("login within 100 km", func(t *testing.T) {
		checkFeatures(t, near, map[string]any{"geo.loginNearDestination": true, "geo.plausibleJourney": false}) // 27 km is no journey
	})
	login(at.Add(4*time.Hour), 53.55, 9.99, "de")
	// A later booking, submitted first, is unseen; the one 14 days ago has left the window.
	h.pay(t, entityPay{user: "trav", at: at.Add(6 * time.Hour), amount: 300, merchant: "m-air", category: "airline"})
	country := h.pay(t, entityPay{user: "trav", at: at.Add(5 * time.Hour), amount: 20, merchant: "m-cafe", device: "phone", where: munich})
	t.Run("login in the same country", func(t *testing.T) {
		checkFeatures(t, country, map[string]any{
			"geo.travelBooked": false, "geo.loginNearDestination": true, "geo.plausibleJourney": true, // 612 km from the Hamburg login
		})
	})
	farther := h.pay(t, entityPay{user: "trav", at: at.Add(5*time.Hour + 30*time.Minute), amount: 20, merchant: "m-cafe", device: "tablet", where: map[string]any{"latitude": 48.137, "longitude": 11.575}})
	t.Run("no login near, new device", func(t *testing.T) {
		checkFeatures(t, farther, map[string]any{"geo.loginNearDestination": false, "device.usual": false, "geo.plausibleJourney": false})
	})
	// Exactly 24 hours after the Potsdam login, and before a later one there.
	login(at.Add(30*time.Hour), 52.39, 13.06, nil)
	edge := h.pay(t, entityPay{user: "trav", at: at.Add(25 * time.Hour), amount: 20, merchant: "m-cafe", device: "phone", where: potsdam})
	t.Run("login window edges", func(t *testing.T) {
		checkFeatures(t, edge, map[string]any{"geo.loginNearDestination": false})
	})
}
