package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// fraudPlan is how many episodes of each typology the default size
// (600 customers × 21 days) gets, about 2% of transactions in all; the
// counts scale with customers × days, at least one each.
var fraudPlan = []struct {
	typology string
	episodes float64
	generate func(g *generator, rng *rand.Rand)
}{
	{cardTesting, 8, (*generator).cardTesting},
	{accountTakeover, 10, (*generator).accountTakeover},
	{cashOut, 10, (*generator).cashOut},
	{structuring, 8, (*generator).structuring},
	{deviceRing, 3, (*generator).deviceRing},
	{muleFanIn, 4, (*generator).muleFanIn},
	{dormantReactivation, 6, (*generator).dormantReactivation},
}

func (g *generator) fraud(rng *rand.Rand) {
	for _, p := range fraudPlan {
		if slices.Contains(g.t.Without, p.typology) {
			continue
		}
		for range g.episodesOf(p.episodes) {
			p.generate(g, rng)
		}
	}
}

func (g *generator) episode(typology string, accounts ...int) int {
	g.t.Episodes = append(g.t.Episodes, episode{Typology: typology, Accounts: accounts})
	return len(g.t.Episodes) - 1
}

// fraudAt starts a transaction of episode ep located at (lat, lon) in where.
func (g *generator) fraudAt(ep, acct int, at time.Time, where city, lat, lon float64) event {
	return event{Account: acct, At: at, HasLocation: true, City: where, Lat: lat, Lon: lon,
		Class: g.t.Episodes[ep].Typology, Fraud: true, Episode: ep}
}

// attackTime is any hour after two days of the victim's history, leaving
// three hours for the episode to finish inside the window.
func (g *generator) attackTime(rng *rand.Rand) time.Time {
	return g.t.Start.Add(between(rng, 48*time.Hour, time.Duration(g.t.Days)*24*time.Hour-3*time.Hour)).Truncate(time.Second)
}

// burst returns n instants from at: the first at at, the rest within span, in order.
func burst(rng *rand.Rand, at time.Time, n int, lo, span time.Duration) []time.Time {
	out := []time.Time{at}
	for range n - 1 {
		out = append(out, at.Add(between(rng, lo, span)).Truncate(time.Second))
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// An address a fresh attacker device or SIM would have.
func freshMobileIP(rng *rand.Rand) string {
	return fmt.Sprintf("100.%d.%d.%d", 64+rng.IntN(64), rng.IntN(256), 1+rng.IntN(254))
}

// elsewhere is a home city other than c's: a domestic fraudster's.
func elsewhere(rng *rand.Rand, c city) city {
	for {
		if o := homeCities[rng.IntN(len(homeCities))]; o != c {
			return o
		}
	}
}

// cardTesting: a bot checks a stolen card with a burst of tiny payments at
// many online merchants within minutes, and half the time spends on it.
func (g *generator) cardTesting(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(cardTesting, v.acct)
	bot, ip := fmt.Sprintf("bot-%d", ep), fmt.Sprintf("203.0.113.%d", 1+rng.IntN(254))
	n := 8 + rng.IntN(18)
	times := burst(rng, g.attackTime(rng), n, 0, between(rng, 2*time.Minute, 10*time.Minute))
	shops := rng.Perm(onlineMerchants)
	for k, at := range times {
		m := online(shops[k])
		g.add(event{Account: v.acct, At: at, AmountCents: 50 + rng.Int64N(451), Merchant: m.ID, Category: m.Category,
			Channel: "WEB", Device: bot, IP: ip, Class: cardTesting, Fraud: true, Episode: ep})
	}
	if rng.IntN(2) == 0 {
		m := onlineOf(rng, "electronics")
		g.add(event{Account: v.acct, At: times[n-1].Add(between(rng, 10*time.Minute, 40*time.Minute)).Truncate(time.Second),
			AmountCents: logUniform(rng, 500, 3000), Merchant: m.ID, Category: m.Category,
			Channel: "WEB", Device: bot, IP: ip, Class: cardTesting, Fraud: true, Episode: ep})
	}
}

// accountTakeover: the thief logs in from abroad on a device of their own,
// then spends or transfers within the hour.
func (g *generator) accountTakeover(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(accountTakeover, v.acct)
	origin := attackerCities[rng.IntN(len(attackerCities))]
	lat, lon := jitter(rng, origin.Lat, origin.Lon, 10)
	device, ip := fmt.Sprintf("ato-%d", ep), fmt.Sprintf("198.51.100.%d", 1+rng.IntN(254))
	at := g.attackTime(rng)
	login := g.fraudAt(ep, v.acct, at, origin, lat, lon)
	login.Kind, login.Device, login.IP = loginEvent, device, ip
	g.add(login)
	for _, t := range burst(rng, at.Add(between(rng, 5*time.Minute, 20*time.Minute)), 1+rng.IntN(4), 0, 40*time.Minute) {
		e := g.fraudAt(ep, v.acct, t, origin, lat, lon)
		e.AmountCents = logUniform(rng, 1000, 15000)
		if rng.IntN(2) == 0 {
			e.Merchant, e.Category = fmt.Sprintf("acct-ato-%d", ep), "p2p_transfer"
		} else {
			m := onlineOf(rng, []string{"electronics", "gift_cards", "travel"}[rng.IntN(3)])
			e.Merchant, e.Category = m.ID, m.Category
		}
		e.Channel, e.Device, e.IP = "APP", device, ip
		g.add(e)
	}
}

// cashOut: a device never seen before (a SIM swap, a cloned app) drains the
// account at once, in one or two large transfers or several medium ones.
func (g *generator) cashOut(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(cashOut, v.acct)
	where := v.home
	if rng.IntN(2) == 0 {
		where = elsewhere(rng, v.home)
	}
	lat, lon := jitter(rng, where.Lat, where.Lon, 10)
	device, ip := fmt.Sprintf("cashout-%d", ep), freshMobileIP(rng)
	n, lo, hi := 1+rng.IntN(2), 10_000.0, 50_000.0
	if rng.IntN(2) == 0 {
		n, lo, hi = 3+rng.IntN(4), 2_000, 8_000
	}
	for k, t := range burst(rng, g.attackTime(rng), n, 2*time.Minute, 30*time.Minute) {
		e := g.fraudAt(ep, v.acct, t, where, lat, lon)
		e.AmountCents = logUniform(rng, lo, hi)
		e.Merchant, e.Category = fmt.Sprintf("acct-co-%d-%d", ep, k%2), "p2p_transfer"
		e.Channel, e.Device, e.IP = "APP", device, ip
		g.add(e)
	}
}

// structuring: transfers of 9,000–9,999.99, just under the 10,000 reporting
// line, between 01:00 and 05:00 local time, mostly from a new device.
func (g *generator) structuring(rng *rand.Rand) {
	victims := g.pick(rng, 1, athome)
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(structuring, v.acct)
	device, ip := fmt.Sprintf("night-%d", ep), freshMobileIP(rng)
	if rng.Float64() < 0.3 {
		device, ip = v.phone, v.mobileIP // the account holder launders through their own phone
	}
	n := 3 + rng.IntN(4)
	first := clockBetween(rng, 1, 2)
	gap := (5*time.Hour - first) / time.Duration(n)
	at := v.home.local(g.t.Start, 2+rng.IntN(g.t.Days-2), first)
	payees := 1 + rng.IntN(2)
	for k := range n {
		e := g.fraudAt(ep, v.acct, at, v.home, v.lat, v.lon)
		e.AmountCents = 900_000 + rng.Int64N(100_000)
		e.Merchant, e.Category = fmt.Sprintf("acct-st-%d-%d", ep, k%payees), "p2p_transfer"
		e.Channel, e.Device, e.IP = "APP", device, ip
		g.add(e)
		at = at.Add(between(rng, gap/2, gap)).Truncate(time.Second)
	}
}

// deviceRing: 5–15 freshly opened accounts on one device and address, each
// buying resellable goods a few times over one to three days.
func (g *generator) deviceRing(rng *rand.Rand) {
	where := homeCities[weighted(rng, homeWeights)]
	ep := g.episode(deviceRing)
	accounts := make([]int, 5+rng.IntN(11))
	for j := range accounts {
		accounts[j] = len(g.t.Accounts)
		g.t.Accounts = append(g.t.Accounts, account{Name: fmt.Sprintf("r%03d-%02d", ep, j), Role: "USER", Synthetic: true})
	}
	g.t.Episodes[ep].Accounts = accounts
	device, ip := fmt.Sprintf("ring-%d", ep), fmt.Sprintf("192.0.2.%d", 1+rng.IntN(254))
	lat, lon := jitter(rng, where.Lat, where.Lon, 10)
	from := g.t.Start.Add(between(rng, 24*time.Hour, time.Duration(g.t.Days-3)*24*time.Hour))
	span := between(rng, 24*time.Hour, 72*time.Hour)
	for _, acct := range accounts {
		for range 2 + rng.IntN(3) {
			e := g.fraudAt(ep, acct, from.Add(between(rng, 0, span)).Truncate(time.Second), where, lat, lon)
			m := onlineOf(rng, []string{"gift_cards", "electronics", "gaming"}[rng.IntN(3)])
			e.AmountCents, e.Merchant, e.Category = logUniform(rng, 200, 3000), m.ID, m.Category
			e.Channel, e.Device, e.IP = "APP", device, ip
			g.add(e)
		}
	}
}

// muleFanIn: many customers (scam victims) pay one new payee within two
// hours, each from their own phone at home; nothing about any one payer is odd.
func (g *generator) muleFanIn(rng *rand.Rand) {
	payers := g.pick(rng, 8+rng.IntN(13), athome)
	if len(payers) == 0 {
		return
	}
	accounts := make([]int, len(payers))
	for i, c := range payers {
		accounts[i] = c.acct
	}
	ep := g.episode(muleFanIn, accounts...)
	mule := fmt.Sprintf("mule-%d", ep)
	// Every home city keeps China's one time zone, so one local clock serves all payers.
	from := homeCities[0].local(g.t.Start, 2+rng.IntN(g.t.Days-2), clockBetween(rng, 10, 20))
	for _, c := range payers {
		times := 1
		if rng.Float64() < 0.15 {
			times = 2 // "the first transfer was too small to release your winnings"
		}
		for _, at := range burst(rng, from.Add(between(rng, 0, time.Hour)).Truncate(time.Second), times, 0, time.Hour) {
			e := g.fraudAt(ep, c.acct, at, c.home, c.lat, c.lon)
			e.AmountCents, e.Merchant, e.Category = logUniform(rng, 500, 5000), mule, "p2p_transfer"
			e.Channel, e.Device, e.IP = "APP", c.phoneAt(at), c.mobileIP
			g.add(e)
		}
	}
}

// dormantReactivation: an account silent for 20 days or more wakes up on a
// new device and address with large payments.
func (g *generator) dormantReactivation(rng *rand.Rand) {
	victims := g.pick(rng, 1, func(c *customer) bool { return c.dormant && !c.lastActive.IsZero() })
	if len(victims) == 0 {
		return
	}
	v := victims[0]
	ep := g.episode(dormantReactivation, v.acct)
	lo, hi := v.lastActive.Add(20*24*time.Hour+time.Hour), g.t.end().Add(-3*time.Hour)
	where := v.home
	if rng.IntN(2) == 0 {
		where = elsewhere(rng, v.home)
	}
	lat, lon := jitter(rng, where.Lat, where.Lon, 10)
	device, ip := fmt.Sprintf("wake-%d", ep), freshMobileIP(rng)
	for _, at := range burst(rng, lo.Add(between(rng, 0, hi.Sub(lo))).Truncate(time.Second), 1+rng.IntN(4), 5*time.Minute, 2*time.Hour) {
		e := g.fraudAt(ep, v.acct, at, where, lat, lon)
		e.AmountCents = logUniform(rng, 5000, 30000)
		if rng.IntN(2) == 0 {
			e.Merchant, e.Category = fmt.Sprintf("acct-wake-%d", ep), "p2p_transfer"
		} else {
			m := onlineOf(rng, "electronics")
			e.Merchant, e.Category = m.ID, m.Category
		}
		e.Channel, e.Device, e.IP = "APP", device, ip
		g.add(e)
	}
}
