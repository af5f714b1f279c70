package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Issue 17's typologies: attacks no rule of the default pack was written
// for, in three families. Each customer's own history looks normal when the
// attack is spread across many customers; each payment is unremarkable when
// it is spread over days; and a takeover that stays under every fixed line
// shows only against the customer's own baseline. Each has a benign
// look-alike in lookalikes.go.
//
// They start on day 9 or later (baselineDay): the multi-day and personal
// features need a week of history, which the simulated window only builds
// from its first day.

// familyPlan is how many episodes of each the default size (600 customers ×
// 21 days) gets, scaled like fraudPlan.
var familyPlan = []struct {
	typology string
	episodes float64
	generate func(g *generator, rng *rand.Rand)
}{
	{bustOut, 2, (*generator).bustOut},
	{botFarm, 2, (*generator).botFarm},
	{weekStructuring, 4, (*generator).weekStructuring},
	{slowDrain, 3, (*generator).slowDrain},
	{offBaseline, 8, (*generator).offBaseline},
	{stolenPhone, 6, (*generator).stolenPhone},
}

// baselineDay is the first day of the window issue 17's typologies and
// their look-alikes use.
const baselineDay = 9

func (g *generator) families(rng *rand.Rand) {
	for _, p := range familyPlan {
		if slices.Contains(g.t.Without, p.typology) {
			continue
		}
		for range g.episodesOf(p.episodes) {
			p.generate(g, rng)
		}
	}
}

// episodesOf scales a default-size count to the traffic's size, at least one.
func (g *generator) episodesOf(atDefault float64) int {
	return max(1, int(math.Round(atDefault*float64(g.t.Users*g.t.Days)/(600*21))))
}

// lateTime is any instant from day `from` on that leaves `spare` days and
// three hours before the window ends.
func (g *generator) lateTime(rng *rand.Rand, from, spare int) time.Time {
	lo := time.Duration(from) * 24 * time.Hour
	hi := time.Duration(g.t.Days-spare)*24*time.Hour - 3*time.Hour
	return g.t.Start.Add(between(rng, lo, hi)).Truncate(time.Second)
}

// lateDay is a day from `from` on with `span` days of the window left from it.
func (g *generator) lateDay(rng *rand.Rand, from, span int) int {
	return from + rng.IntN(max(1, g.t.Days-span-from+1))
}

func accountsOf(cs []*customer) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.acct
	}
	return out
}

// categoriesPaid are the merchant categories each account has paid so far
// in the generated traffic (everyday payments come first).
func (g *generator) categoriesPaid(acct int) map[string]bool {
	out := map[string]bool{}
	for _, e := range g.t.Events {
		if e.Account == acct && e.Kind == submitEvent {
			out[e.Category] = true
		}
	}
	return out
}

// splurgeCategories are what a thief or a treat buys; newCategoryFor picks one
// the customer has never paid.
var splurgeCategories = []string{"jewellery", "electronics", "gift_cards", "luxury_goods", "gaming"}

func (g *generator) newCategoryFor(rng *rand.Rand, c *customer) (merchant, bool) {
	paid := g.categoriesPaid(c.acct)
	for _, i := range rng.Perm(len(splurgeCategories)) {
		switch cat := splurgeCategories[i]; {
		case paid[cat]:
		case cat == "jewellery" || cat == "luxury_goods":
			return merchant{ID: fmt.Sprintf("lux-%s-%02d", cat, rng.IntN(20)), Category: cat}, true
		default:
			return onlineOf(rng, cat), true
		}
	}
	return merchant{}, false
}

// offBaselineCents is `times` the customer's median, kept under the near-line
// band (9,000) so no fixed line sees it.
func offBaselineCents(c *customer, times float64) int64 {
	return int64(math.Round(math.Min(8_900, math.Max(1, c.median*times)) * 100))
}

// bustOut (spread across customers): a merchant opened for the purpose
// charges 12–25 stolen accounts within 8–25 minutes, each from a device
// nobody has seen (an emulator farm) at addresses all over the internet.
// Each victim's history shows one unremarkable online purchase.
func (g *generator) bustOut(rng *rand.Rand) {
	victims := g.pick(rng, 12+rng.IntN(14), athome)
	if len(victims) == 0 {
		return
	}
	ep := g.episode(bustOut, accountsOf(victims)...)
	m := fmt.Sprintf("bo-%d", ep)
	cat := []string{"electronics", "gift_cards", "fashion_online"}[rng.IntN(3)]
	where := homeCities[weighted(rng, homeWeights)] // where the farm's faked GPS says
	at, span := g.lateTime(rng, baselineDay, 0), between(rng, 8*time.Minute, 25*time.Minute)
	for k, v := range victims {
		lat, lon := jitter(rng, where.Lat, where.Lon, 20)
		e := g.fraudAt(ep, v.acct, at.Add(between(rng, 0, span)).Truncate(time.Second), where, lat, lon)
		e.AmountCents, e.Merchant, e.Category = logUniform(rng, 300, 3000), m, cat
		e.Channel, e.Device = "WEB", fmt.Sprintf("bo-%d-%d", ep, k)
		e.IP = fmt.Sprintf("%d.%d.%d.%d", 31+rng.IntN(60), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		g.add(e)
	}
}

// botFarm (spread across customers): credential stuffing from one /24: 10–20
// accounts, each from a fresh device on its own address in the block, buy
// gift cards and games at a handful of established merchants over 20–90
// minutes. Each account makes one or two purchases of a size it might.
func (g *generator) botFarm(rng *rand.Rand) {
	victims := g.pick(rng, 10+rng.IntN(11), athome)
	if len(victims) == 0 {
		return
	}
	ep := g.episode(botFarm, accountsOf(victims)...)
	block := fmt.Sprintf("45.%d.%d", 10+rng.IntN(200), rng.IntN(256))
	var shops []merchant
	for range 3 + rng.IntN(4) {
		shops = append(shops, onlineOf(rng, []string{"gift_cards", "gaming", "electronics"}[rng.IntN(3)]))
	}
	where := homeCities[weighted(rng, homeWeights)]
	at, span := g.lateTime(rng, baselineDay, 0), between(rng, 20*time.Minute, 90*time.Minute)
	for k, v := range victims {
		device, ip := fmt.Sprintf("farm-%d-%d", ep, k), fmt.Sprintf("%s.%d", block, 2+rng.IntN(250))
		lat, lon := jitter(rng, where.Lat, where.Lon, 10)
		t := at.Add(between(rng, 0, span)).Truncate(time.Second)
		for range 1 + rng.IntN(2) {
			m := shops[rng.IntN(len(shops))]
			e := g.fraudAt(ep, v.acct, t, where, lat, lon)
			e.AmountCents, e.Merchant, e.Category = logUniform(rng, 200, 2000), m.ID, m.Category
			e.Channel, e.Device, e.IP = "APP", device, ip
			g.add(e)
			t = t.Add(between(rng, 2*time.Minute, 8*time.Minute)).Truncate(time.Second)
		}
	}
}

// weekStructuring (slow, over days): 4–7 transfers of 9,000–9,999.99 to one
// to three payees on as many days of one week, in the daytime, from the
// customer's own phone at home: no single day or hour looks like structuring.
func (g *generator) weekStructuring(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(weekStructuring, v.acct)
	first, payees := g.lateDay(rng, baselineDay, 7), 1+rng.IntN(3)
	days := rng.Perm(7)[:4+rng.IntN(4)]
	slices.Sort(days)
	for k, d := range days {
		at := v.home.local(g.t.Start, first+d, clockBetween(rng, 9, 18))
		if !g.inWindow(at) {
			continue
		}
		e := g.fraudAt(ep, v.acct, at, v.home, v.lat, v.lon)
		e.AmountCents = 900_000 + rng.Int64N(100_000)
		e.Merchant, e.Category = fmt.Sprintf("acct-ws-%d-%d", ep, k%payees), "p2p_transfer"
		e.Channel, e.Device, e.IP = "APP", v.phoneAt(at), v.mobileIP
		g.add(e)
	}
}

// slowDrain (slow, over days): a thief with the customer's credentials and
// a phone of their own in the same city spends a little more each day for
// 5–7 days, at merchants the customer never used: from twice the customer's
// usual amount on the first day to about ten times on the last, one payment
// a day at first and up to four, always under the near-line band.
func (g *generator) slowDrain(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(slowDrain, v.acct)
	days := 5 + rng.IntN(3)
	first := g.lateDay(rng, baselineDay, days)
	device, ip := fmt.Sprintf("drain-%d", ep), freshMobileIP(rng)
	lat, lon := jitter(rng, v.home.Lat, v.home.Lon, 10)
	k := 0
	for d := range days {
		for range 1 + d/2 {
			at := v.home.local(g.t.Start, first+d, dayClock(rng))
			if !g.inWindow(at) {
				continue
			}
			e := g.fraudAt(ep, v.acct, at, v.home, lat, lon)
			e.AmountCents = offBaselineCents(v, (2+rng.Float64())*math.Pow(1.45, float64(d)))
			if rng.IntN(3) == 0 {
				e.Merchant, e.Category = fmt.Sprintf("acct-sd-%d-%d", ep, k), "p2p_transfer"
			} else {
				m := onlineOf(rng, []string{"electronics", "gift_cards", "fashion_online", "gaming"}[rng.IntN(4)])
				e.Merchant, e.Category = m.ID, m.Category
			}
			e.Channel, e.Device, e.IP = "APP", device, ip
			g.add(e)
			k++
		}
	}
}

// offBaseline (off the baseline): a takeover from a new phone in the
// customer's own city, starting 01:00–04:00 local, 1–3 payments of 5–8 times the
// customer's usual amount within 90 minutes, in a category they never paid:
// under every fixed line, far outside their own history.
func (g *generator) offBaseline(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	m, ok := g.newCategoryFor(rng, v)
	if !ok {
		return
	}
	ep := g.episode(offBaseline, v.acct)
	device, ip := fmt.Sprintf("local-%d", ep), freshMobileIP(rng)
	lat, lon := jitter(rng, v.home.Lat, v.home.Lon, 10)
	at := v.home.local(g.t.Start, g.lateDay(rng, baselineDay, 1), clockBetween(rng, 1, 4))
	for _, t := range burst(rng, at, 1+rng.IntN(3), 3*time.Minute, 90*time.Minute) {
		e := g.fraudAt(ep, v.acct, t, v.home, lat, lon)
		e.AmountCents, e.Merchant, e.Category = offBaselineCents(v, 5+3*rng.Float64()), m.ID, m.Category
		e.Channel, e.Device, e.IP = "APP", device, ip
		g.add(e)
	}
}

// stolenPhone (off the baseline): the customer's own unlocked phone, on their
// own mobile address, in their city: 2–4 payments of 4–8 times their usual
// amount from between midnight and 03:30 on, in categories they never paid or to a
// payee nobody paid. Every device and address signal says "the customer".
func (g *generator) stolenPhone(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	m, ok := g.newCategoryFor(rng, v)
	if !ok {
		return
	}
	ep := g.episode(stolenPhone, v.acct)
	lat, lon := jitter(rng, v.home.Lat, v.home.Lon, 5)
	at := v.home.local(g.t.Start, g.lateDay(rng, baselineDay, 1), clockBetween(rng, 0.25, 3.5))
	for k, t := range burst(rng, at, 2+rng.IntN(3), 5*time.Minute, 2*time.Hour) {
		e := g.fraudAt(ep, v.acct, t, v.home, lat, lon)
		e.AmountCents, e.Merchant, e.Category = offBaselineCents(v, 4+4*rng.Float64()), m.ID, m.Category
		if k > 0 && rng.IntN(2) == 0 {
			e.Merchant, e.Category = fmt.Sprintf("acct-sp-%d", ep), "p2p_transfer"
		}
		e.Channel, e.Device, e.IP = "APP", v.phoneAt(t), v.mobileIP
		g.add(e)
	}
}
