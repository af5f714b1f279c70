package main

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/engine"
)

var testStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func generateT(t *testing.T, seed uint64, start time.Time) *traffic {
	t.Helper()
	tr, err := generate(config{Seed: seed, Users: 600, Days: 21, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generateT(t, 11, testStart), generateT(t, 11, testStart)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("seed 11 generated different traffic twice")
	}
	if other := generateT(t, 12, testStart); reflect.DeepEqual(a.Events, other.Events) {
		t.Fatal("seeds 11 and 12 generated the same traffic")
	}
	// Another date moves every event by whole days and changes nothing else,
	// so local hours (night structuring, daytime rhythm) don't depend on the date.
	later := generateT(t, 11, testStart.AddDate(0, 0, 3))
	if len(later.Events) != len(a.Events) {
		t.Fatalf("%d events three days later, %d before", len(later.Events), len(a.Events))
	}
	for i := range a.Events {
		want := a.Events[i]
		want.At = want.At.Add(72 * time.Hour)
		if !reflect.DeepEqual(later.Events[i], want) {
			t.Fatalf("event %d three days later: %+v, want %+v", i, later.Events[i], want)
		}
	}
}

func TestTypologyMix(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13} {
		tr := generateT(t, seed, testStart)
		episodes, tx := map[string]int{}, map[string]int{}
		for _, ep := range tr.Episodes {
			episodes[ep.Typology]++
		}
		perEpisode := make([]int, len(tr.Episodes))
		fraud, all := 0, 0
		for i, e := range tr.Events {
			if i > 0 && e.At.Before(tr.Events[i-1].At) {
				t.Fatalf("seed %d: event %d out of time order", seed, i)
			}
			if e.At.Before(tr.Start) || !e.At.Before(tr.end()) {
				t.Fatalf("seed %d: event %d at %s, outside the window", seed, i, e.At)
			}
			if e.Fraud != (e.Episode >= 0) || (e.Fraud && tr.Episodes[e.Episode].Typology != e.Class) {
				t.Fatalf("seed %d: event %d mislabelled: %+v", seed, i, e)
			}
			if e.Kind == loginEvent {
				continue
			}
			all++
			tx[e.Class]++
			if e.Fraud {
				fraud++
				perEpisode[e.Episode]++
			}
		}
		for _, class := range fraudClasses {
			if episodes[class] == 0 || tx[class] == 0 {
				t.Errorf("seed %d: %s has %d episodes, %d transactions", seed, class, episodes[class], tx[class])
			}
		}
		for i, n := range perEpisode {
			if n == 0 {
				t.Errorf("seed %d: episode %d (%s) has no transaction", seed, i, tr.Episodes[i].Typology)
			}
		}
		for _, class := range benignClasses {
			if tx[class] == 0 {
				t.Errorf("seed %d: no %s transactions", seed, class)
			}
		}
		if share := float64(fraud) / float64(all); share < 0.01 || share > 0.03 {
			t.Errorf("seed %d: fraud is %.2f%% of %d transactions, want 1-3%%", seed, 100*share, all)
		}
	}
}

// localClock is the local time of day of t in c.
func localClock(c city, t time.Time) time.Duration {
	l := t.Add(time.Duration(c.UTCOffset) * time.Hour)
	return l.Sub(l.Truncate(24 * time.Hour))
}

// byEpisode groups the events of each episode.
func byEpisode(tr *traffic) [][]event {
	out := make([][]event, len(tr.Episodes))
	for _, e := range tr.Events {
		if e.Episode >= 0 {
			out[e.Episode] = append(out[e.Episode], e)
		}
	}
	return out
}

// seenBefore reports whether acct used device before at.
func seenBefore(tr *traffic, acct int, device string, at time.Time) bool {
	for _, e := range tr.Events {
		if e.Account == acct && e.Device == device && e.At.Before(at) {
			return true
		}
	}
	return false
}

func TestTypologiesHaveTheirShape(t *testing.T) {
	tr := generateT(t, 11, testStart)
	for ep, events := range byEpisode(tr) {
		typology := tr.Episodes[ep].Typology
		first, last := events[0], events[len(events)-1]
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("episode %d (%s): "+format, append([]any{ep, typology}, args...)...)
		}
		switch typology {
		case cardTesting:
			tiny, merchants := 0, map[string]bool{}
			for _, e := range events {
				if e.AmountCents >= 50 && e.AmountCents <= 500 && e.At.Sub(first.At) <= 10*time.Minute {
					tiny++
					merchants[e.Merchant] = true
				}
				if e.HasLocation {
					fail("a bot sent a location")
				}
			}
			if tiny < 8 || len(merchants) < tiny {
				fail("%d tiny payments at %d merchants in 10 minutes, want 8+ at as many", tiny, len(merchants))
			}
		case accountTakeover:
			if first.Kind != loginEvent || first.City.Country == "CN" || seenBefore(tr, first.Account, first.Device, first.At) {
				fail("does not start with a login from abroad on a new device: %+v", first)
			}
			for _, e := range events[1:] {
				if e.Kind != submitEvent || e.Device != first.Device || e.At.Sub(first.At) > time.Hour {
					fail("transaction not from the thief's device within the hour: %+v", e)
				}
			}
		case cashOut:
			large := false
			for _, e := range events {
				large = large || e.AmountCents >= 1_000_000
			}
			if seenBefore(tr, first.Account, first.Device, first.At) || last.At.Sub(first.At) > 30*time.Minute || (!large && len(events) < 3) {
				fail("want a new device, within 30 minutes, large or several: %d transactions over %s", len(events), last.At.Sub(first.At))
			}
		case structuring:
			for _, e := range events {
				clock := localClock(e.City, e.At)
				if e.AmountCents < 900_000 || e.AmountCents > 999_999 || clock < time.Hour || clock >= 5*time.Hour {
					fail("%d cents at %s local", e.AmountCents, clock)
				}
			}
			if len(events) < 3 {
				fail("%d transactions, want 3 or more", len(events))
			}
		case deviceRing:
			accounts := map[int]int{}
			for _, e := range events {
				accounts[e.Account]++
				if e.Device != first.Device || !tr.Accounts[e.Account].Synthetic {
					fail("transaction off the ring's device or by a customer: %+v", e)
				}
			}
			if n := len(tr.Episodes[ep].Accounts); n < 5 || n > 15 || len(accounts) != n {
				fail("%d accounts, %d transacting, want 5 to 15, all", n, len(accounts))
			}
		case muleFanIn:
			payers := map[int]bool{}
			for _, e := range events {
				payers[e.Account] = true
				if e.Merchant != first.Merchant || e.At.Sub(first.At) > 2*time.Hour {
					fail("payment to %s after %s", e.Merchant, e.At.Sub(first.At))
				}
			}
			if len(payers) < 8 {
				fail("%d payers, want 8 or more", len(payers))
			}
		case dormantReactivation:
			var previous time.Time
			for _, e := range tr.Events {
				if e.Account == first.Account && e.Episode != ep && e.At.Before(first.At) {
					previous = e.At
				}
			}
			if previous.IsZero() || first.At.Sub(previous) < 20*24*time.Hour || seenBefore(tr, first.Account, first.Device, first.At) {
				fail("silent since %s, woke at %s, device %s", previous, first.At, first.Device)
			}
		case bustOut:
			devices := map[string]bool{}
			for _, e := range events {
				devices[e.Device] = true
				if e.Merchant != first.Merchant || e.At.Sub(first.At) > 25*time.Minute || seenBefore(tr, e.Account, e.Device, e.At) {
					fail("payment to %s after %s from %s", e.Merchant, e.At.Sub(first.At), e.Device)
				}
			}
			if n := len(tr.Episodes[ep].Accounts); n < 12 || len(devices) != n {
				fail("%d victims on %d devices, want 12 or more, one fresh device each", n, len(devices))
			}
		case botFarm:
			block := first.IP[:strings.LastIndex(first.IP, ".")]
			for _, e := range events {
				if !strings.HasPrefix(e.IP, block+".") || e.At.Sub(first.At) > 2*time.Hour || seenBefore(tr, e.Account, e.Device, first.At) {
					fail("%s from %s after %s", e.Device, e.IP, e.At.Sub(first.At))
				}
			}
			if n := len(tr.Episodes[ep].Accounts); n < 10 {
				fail("%d accounts, want 10 or more", n)
			}
		case weekStructuring:
			days := map[int]bool{}
			for _, e := range events {
				clock := localClock(e.City, e.At)
				days[int(e.At.Sub(first.At).Hours()/24)] = true
				if e.AmountCents < 900_000 || e.AmountCents > 999_999 || clock < 9*time.Hour || clock >= 18*time.Hour || e.Device != "phone-"+fmt.Sprint(e.Account) && e.Device != "phone-"+fmt.Sprint(e.Account)+"-new" {
					fail("%d cents at %s local on %s", e.AmountCents, clock, e.Device)
				}
			}
			if len(days) < 3 || last.At.Sub(first.At) > 7*24*time.Hour {
				fail("%d days over %s, want 3 or more within a week", len(days), last.At.Sub(first.At))
			}
		case slowDrain:
			for _, e := range events {
				if e.AmountCents >= 900_000 || e.Device != first.Device {
					fail("%d cents on %s", e.AmountCents, e.Device)
				}
			}
			if last.At.Sub(first.At) < 4*24*time.Hour || last.AmountCents <= first.AmountCents || len(events) < 5 {
				fail("%d payments over %s, %d → %d cents, want 5 or more over 4+ days, growing", len(events), last.At.Sub(first.At), first.AmountCents, last.AmountCents)
			}
		case offBaseline, stolenPhone:
			paid := map[string]bool{}
			for _, e := range tr.Events {
				if e.Account == first.Account && e.At.Before(first.At) {
					paid[e.Category] = true
				}
			}
			for _, e := range events {
				if clock := localClock(e.City, e.At); clock >= 6*time.Hour || e.AmountCents >= 900_000 {
					fail("%d cents at %s local", e.AmountCents, clock)
				}
			}
			if paid[first.Category] || seenBefore(tr, first.Account, first.Device, first.At) != (typology == stolenPhone) {
				fail("category %s paid before: %v; device %s", first.Category, paid[first.Category], first.Device)
			}
		default:
			fail("unknown typology")
		}
	}
}

func TestBenignPatternsHaveTheirShape(t *testing.T) {
	tr := generateT(t, 11, testStart)
	previous := map[int]event{} // each account's last located event
	flights := 0
	for _, e := range tr.Events {
		switch {
		case e.Class == largePurchase && e.AmountCents < 1_000_000:
			t.Errorf("large purchase of %d cents", e.AmountCents)
		case e.Class != largePurchase && !e.Fraud && e.AmountCents >= 1_000_000:
			t.Errorf("%s payment of %d cents", e.Class, e.AmountCents)
		}
		p, ok := previous[e.Account]
		if e.Class == journey && ok && strings.HasSuffix(e.Merchant, "-airport") && p.City.Country != e.City.Country {
			flights++
			km := engine.Haversine(p.Lat, p.Lon, e.Lat, e.Lon)
			if v := km / e.At.Sub(p.At).Hours(); v < 699 || v > 901 {
				t.Errorf("flight %s → %s at %.0f km/h, want 700–900", p.City.Name, e.City.Name, v)
			}
		}
		if e.HasLocation && !e.Fraud {
			previous[e.Account] = e
		}
	}
	if flights == 0 {
		t.Error("no flights")
	}
	// Look-alikes: the signal of their family, on the customers' own devices.
	payers, accounts := map[string]map[int]bool{}, map[string]map[int]bool{}
	for _, e := range tr.Events {
		switch e.Class {
		case charityDrive:
			if payers[e.Merchant] == nil {
				payers[e.Merchant] = map[int]bool{}
			}
			payers[e.Merchant][e.Account] = true
		case familyTablet:
			if accounts[e.Device] == nil {
				accounts[e.Device] = map[int]bool{}
			}
			accounts[e.Device][e.Account] = true
		case campusWiFi, salaryDay, yearlyTreat:
			if own := fmt.Sprint("-", e.Account); e.Device != "" && !strings.HasSuffix(e.Device, own) && !strings.HasSuffix(e.Device, own+"-new") {
				t.Errorf("%s on a device not account %d's own: %+v", e.Class, e.Account, e)
			}
		}
	}
	for m, p := range payers {
		if len(p) < 25 {
			t.Errorf("charity %s: %d donors, want 25 or more", m, len(p))
		}
	}
	for d, a := range accounts {
		if len(a) < 2 {
			t.Errorf("tablet %s: %d accounts, want 2 or more", d, len(a))
		}
	}
	if len(payers) == 0 || len(accounts) == 0 {
		t.Error("no charity drive or family tablet")
	}

	// Each spree: 5 or more purchases at one mall within 10 minutes.
	sprees := map[int][]event{}
	for _, e := range tr.Events {
		if e.Class == shoppingSpree {
			sprees[e.Account] = append(sprees[e.Account], e)
		}
	}
	for acct, s := range sprees {
		if len(s) < 5 || s[len(s)-1].At.Sub(s[0].At) > 10*time.Minute || s[0].Lat != s[len(s)-1].Lat {
			t.Errorf("account %d: spree of %d over %s", acct, len(s), s[len(s)-1].At.Sub(s[0].At))
		}
	}
}

func TestScheduleKeepsSharedHistoryInOrder(t *testing.T) {
	tr := generateT(t, 11, testStart)
	var mu sync.Mutex
	var order []int
	tr.schedule(context.Background(), 8, func(i int) {
		runtime.Gosched() // let the workers overtake each other
		mu.Lock()
		order = append(order, i)
		mu.Unlock()
	})
	if len(order) != len(tr.Events) {
		t.Fatalf("%d of %d events ran", len(order), len(tr.Events))
	}
	// Per account, device, address and merchant, events finish in event order.
	last := map[string]int{}
	for _, i := range order {
		e := tr.Events[i]
		shared := []string{fmt.Sprint("a", e.Account), "d" + e.Device, "i" + e.IP, "m" + e.Merchant}
		for _, k := range shared {
			if len(k) == 1 {
				continue // no device, address or merchant
			}
			if j, ok := last[k]; ok && j > i {
				t.Fatalf("event %d ran after event %d, though both are %q", j, i, k)
			}
			last[k] = i
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int64
	tr.schedule(ctx, 8, func(int) {
		if ran.Add(1) == 100 {
			cancel()
		}
	})
	if n := ran.Load(); n >= int64(len(tr.Events)) {
		t.Errorf("a cancelled schedule ran all %d events", n)
	}
}

func TestConfigBounds(t *testing.T) {
	for _, c := range []config{
		{Users: 600, Days: minDays - 1, Start: testStart},
		{Users: 600, Days: maxDays + 1, Start: testStart},
		{Users: minUsers - 1, Days: 21, Start: testStart},
		{Users: 600, Days: 21, Start: testStart.Add(time.Hour)},
	} {
		if _, err := generate(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
