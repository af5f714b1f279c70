package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// feature reads a dotted name from a detection's feature snapshot.
func (s submitted) feature(name string) any {
	var v any = s.Detection.Features
	for part := range strings.SplitSeq(name, ".") {
		m, _ := v.(map[string]any)
		v = m[part]
	}
	return v
}

// TestDetectionFeatures computes each history feature on a constructed
// history, submitted in event time, and checks the stored snapshot exactly.
func TestDetectionFeatures(t *testing.T) {
	e := newEnv(t)
	admin := e.user(t, "root", domain.RoleAdmin) // the feature vector is not a payment system's to read
	users := map[string]string{}
	for _, name := range []string{"vic", "ring2", "ring3", "ring4", "payer1", "payer2", "payer3"} {
		users[name] = e.user(t, name, domain.RoleUser).User.ID
	}
	t0 := e.clock.Now().UTC().Truncate(time.Hour).Add(-20 * 24 * time.Hour)
	shanghai := map[string]any{"latitude": 31.2304, "longitude": 121.4737, "country": "CN", "city": "Shanghai"}
	berlin := map[string]any{"latitude": 52.52, "longitude": 13.405, "country": "de", "city": "Berlin"}
	pay := func(user string, at time.Time, amount float64, merchant, device string, where map[string]any) submitted {
		t.Helper()
		in := map[string]any{"userId": users[user], "amount": amount, "merchantId": merchant,
			"occurredAt": at.Format(time.RFC3339Nano)}
		if device != "" {
			in["deviceId"] = device
		}
		if where != nil {
			in["location"] = where
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

	first := pay("vic", t0, 100, "m-a", "phone", shanghai)
	t.Run("first transaction", func(t *testing.T) {
		check(t, first, map[string]any{
			"user.txCount30d": 1.0, "user.avgAmount30d": 0.0, "user.maxAmount30d": 0.0,
			"user.amountToAvg30d": 0.0, "user.amountToMax30d": 0.0, "user.daysSincePrevious": -1.0,
			"user.smallTxCount10m": 0.0, "user.merchantCount10m": 1.0,
			"device.userAgeDays": 0.0, "device.userCount24h": 1.0, "device.userCount7d": 1.0,
			"geo.newCountry": false, "merchantUsers24h": 1.0, "merchantAgeDays": 0.0,
			"timeZone": "Asia/Shanghai", "localHour": float64(t0.Add(8 * time.Hour).Hour()),
		})
	})
	pay("vic", t0.Add(24*time.Hour), 300, "m-b", "phone", shanghai)
	pay("vic", t0.Add(48*time.Hour), 200, "m-a", "phone", shanghai)

	// Thirteen silent days, then a bot with no location probes the card.
	at := t0.Add(15 * 24 * time.Hour)
	// Another account used the bot's device three days earlier (7-day window only).
	pay("ring4", at.Add(-72*time.Hour), 50, "m-z", "bot", nil)
	probe := pay("vic", at, 5, "m-c", "bot", nil)
	t.Run("after a silence", func(t *testing.T) {
		check(t, probe, map[string]any{
			"user.daysSincePrevious": 13.0, "user.txCount30d": 4.0, "user.avgAmount30d": 200.0, "user.maxAmount30d": 300.0,
			"user.amountToAvg30d": 0.025, "user.amountToMax30d": 5.0 / 300,
			"user.smallTxCount10m": 1.0, "device.userAgeDays": 0.0, "device.userCount7d": 2.0, "device.userCount24h": 1.0,
			// No place: the time zone of the previous location.
			"timeZone": "Asia/Shanghai", "localHour": float64(at.Add(8 * time.Hour).Hour()), "geo.newCountry": false,
		})
	})
	pay("vic", at.Add(time.Minute), 3, "m-d", "bot", nil)
	pay("vic", at.Add(2*time.Minute), 12, "m-c", "bot", nil)
	pay("ring2", at.Add(3*time.Minute), 20, "m-y", "bot", nil)
	pay("ring3", at.Add(4*time.Minute), 20, "m-y", "bot", nil)
	burst := pay("vic", at.Add(5*time.Minute), 4.5, "m-e", "bot", nil)
	t.Run("card-testing burst", func(t *testing.T) {
		check(t, burst, map[string]any{
			// 5, 3 and 4.5 are under 10; 12 is not. Merchants c, d, e.
			"user.smallTxCount10m": 3.0, "user.merchantCount10m": 3.0, "user.txCount10m": 4.0,
			"user.daysSincePrevious": 3.0 / 1440, "user.avgAmount30d": 620.0 / 6, "user.maxAmount30d": 300.0,
			"user.amountToAvg30d": 4.5 / (620.0 / 6), "user.amountToMax30d": 0.015,
			"device.userCount24h": 3.0, "device.userCount7d": 4.0, "device.userAgeDays": 5.0 / 1440,
		})
	})

	// A mule payee: p3 paid it two days ago, p1 and p2 within the day.
	pay("payer3", at.Add(-48*time.Hour), 900, "m-mule", "", nil)
	pay("payer1", at.Add(10*time.Minute), 900, "m-mule", "", nil)
	pay("payer2", at.Add(20*time.Minute), 900, "m-mule", "", nil)
	mule := pay("vic", at.Add(30*time.Minute), 900, "m-mule", "", shanghai)
	t.Run("payee fan-in", func(t *testing.T) {
		check(t, mule, map[string]any{"merchantUsers24h": 3.0, "merchantAgeDays": 2 + 30.0/1440, "user.merchantCount10m": 1.0})
	})

	abroad := pay("vic", at.Add(time.Hour), 2000, "m-f", "phone", berlin)
	t.Run("new country", func(t *testing.T) {
		want := at.Add(time.Hour).In(mustZone(t, "Europe/Berlin")).Hour()
		check(t, abroad, map[string]any{
			"geo.newCountry": true, "timeZone": "Europe/Berlin", "localHour": float64(want),
			"device.userAgeDays": 15 + 1.0/24, "user.daysSincePrevious": 30.0 / 1440,
		})
	})
	// Back home, China is not new; a first payment without history isn't either.
	home := pay("vic", at.Add(2*time.Hour), 50, "m-a", "phone", shanghai)
	t.Run("home country", func(t *testing.T) {
		check(t, home, map[string]any{"geo.newCountry": false})
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
