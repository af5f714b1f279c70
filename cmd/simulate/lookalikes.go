package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Benign look-alikes of issue 17's families (families.go): each trips the
// signal its family shows, and is not fraud. A rule that fires on one signal
// alone flags these.
func (g *generator) lookalikes(rng *rand.Rand) {
	for range g.episodesOf(2) {
		g.charityDrive(rng)
	}
	for range g.episodesOf(1) {
		g.campus(rng)
	}
	for range g.episodesOf(4) {
		g.familyTablet(rng)
	}
	g.salaryDay(rng)
	for range g.episodesOf(6) {
		g.movingHouse(rng)
	}
	for range g.episodesOf(18) {
		g.yearlyTreat(rng)
	}
}

// homeAt reports whether the customer is at home at t and active.
func (c *customer) homeAt(t time.Time) bool {
	where, ok := c.placeAt(t)
	return !c.dormant && ok && where == c.home
}

// ownDevice is how the customer pays online at t: their phone, or at home
// sometimes their laptop.
func (c *customer) ownDevice(rng *rand.Rand, t time.Time) (channel, device, ip string) {
	if c.laptop != "" && rng.IntN(3) == 0 {
		return "WEB", c.laptop, c.homeIP
	}
	return "APP", c.phoneAt(t), c.mobileIP
}

// charityDrive (look-alike of the bust-out merchant): after a television
// appeal, 25–60 customers give 10–200 to a charity nobody paid before, within
// 45 minutes, each from their own phone at home.
func (g *generator) charityDrive(rng *rand.Rand) {
	m := fmt.Sprintf("charity-%d", rng.IntN(1_000_000))
	at := homeCities[0].local(g.t.Start, g.lateDay(rng, baselineDay, 1), clockBetween(rng, 19, 21.5))
	n := 25 + rng.IntN(36)
	for _, i := range rng.Perm(len(g.customers)) {
		c := g.customers[i]
		t := at.Add(between(rng, 0, 45*time.Minute)).Truncate(time.Second)
		if n == 0 || !c.homeAt(t) {
			continue
		}
		n--
		g.add(event{Account: c.acct, At: t, AmountCents: logUniform(rng, 10, 200), Merchant: m, Category: "charity",
			Channel: "APP", Device: c.phoneAt(t), IP: c.mobileIP, HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon,
			Class: charityDrive, Episode: -1})
	}
}

// campus (look-alike of the bot farm): a university's Wi-Fi is one /24
// behind a few addresses; for five days 20–40 of the customers living in its
// city pay the canteens at lunch from their own phones on it.
func (g *generator) campus(rng *rand.Rand) {
	where := homeCities[rng.IntN(3)] // the three largest cities have enough customers
	var students []*customer
	for _, i := range rng.Perm(len(g.customers)) {
		if c := g.customers[i]; c.home == where && !c.dormant && len(students) < 20+rng.IntN(21) {
			students = append(students, c)
		}
	}
	block := fmt.Sprintf("58.%d.%d", 10+rng.IntN(200), rng.IntN(256))
	lat, lon := jitter(rng, where.Lat, where.Lon, 10)
	first := g.lateDay(rng, baselineDay, 5)
	for d := range 5 {
		for _, c := range students {
			t := where.local(g.t.Start, first+d, clockBetween(rng, 11.5, 13))
			if rng.Float64() >= 0.7 || !c.homeAt(t) || !g.inWindow(t) {
				continue
			}
			g.add(event{Account: c.acct, At: t, AmountCents: logUniform(rng, 8, 45), Merchant: fmt.Sprintf("m-%s-canteen-%d", where.Code, rng.IntN(4)),
				Category: "canteen", Channel: "APP", Device: c.phoneAt(t), IP: fmt.Sprintf("%s.%d", block, 1+rng.IntN(4)),
				HasLocation: true, City: where, Lat: lat, Lon: lon, Class: campusWiFi, Episode: -1})
		}
	}
}

// familyTablet (look-alike of device rings and bot farms: many accounts on
// one device): two to four family members, each with an account of their
// own, pay games, subscriptions and take-away from one tablet at home in the
// evenings for 7–10 days, often two of them within the hour.
func (g *generator) familyTablet(rng *rand.Rand) {
	parent := g.anyActive(rng)
	family := []*customer{parent}
	for _, i := range rng.Perm(len(g.customers)) {
		if c := g.customers[i]; c != parent && c.home == parent.home && !c.dormant && len(family) < 2+rng.IntN(3) {
			family = append(family, c)
		}
	}
	tablet := fmt.Sprintf("tablet-%d", parent.acct)
	days := 7 + rng.IntN(4)
	first := g.lateDay(rng, baselineDay, days)
	for d := range days {
		for _, c := range family {
			t := parent.home.local(g.t.Start, first+d, clockBetween(rng, 18.5, 22))
			if rng.IntN(2) == 0 || !parent.homeAt(t) || !c.homeAt(t) || !g.inWindow(t) {
				continue
			}
			m := onlineOf(rng, []string{"gaming", "subscription", "food_delivery"}[rng.IntN(3)])
			g.add(event{Account: c.acct, At: t, AmountCents: c.amount(rng, m.Scale), Merchant: m.ID, Category: m.Category,
				Channel: "APP", Device: tablet, IP: parent.homeIP, HasLocation: true, City: parent.home, Lat: parent.lat, Lon: parent.lon,
				Class: familyTablet, Episode: -1})
		}
	}
}

// salaryDay (look-alike of the slow drain: spend accelerating at new
// merchants): on payday, six days before the window ends, a quarter of the
// customers spend 2–4 times their usual amount 3–6 times over that day and
// the next, a third of it at shops they never used.
func (g *generator) salaryDay(rng *rand.Rand) {
	payday := g.t.Days - 6
	for _, c := range g.customers {
		if c.dormant || rng.Float64() >= 0.25 {
			continue
		}
		for range 3 + rng.IntN(4) {
			t := c.home.local(g.t.Start, payday+rng.IntN(2), dayClock(rng))
			if !c.homeAt(t) || !g.inWindow(t) {
				continue
			}
			m := c.favourites[rng.IntN(len(c.favourites))]
			if rng.IntN(3) == 0 {
				m = shop(c.home, rng.IntN(shopsPerCity))
			}
			e := event{Account: c.acct, At: t, AmountCents: offBaselineCents(c, (2+2*rng.Float64())*m.Scale), Merchant: m.ID, Category: m.Category,
				HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon, Class: salaryDay, Episode: -1}
			if m.POS && rng.IntN(2) == 0 {
				e.Channel = "POS"
				e.Lat, e.Lon = jitter(rng, c.home.Lat, c.home.Lon, 12)
			} else {
				e.Channel, e.Device, e.IP = c.ownDevice(rng, t)
			}
			g.add(e)
		}
	}
}

var movingCategories = []string{"furniture", "appliances", "hardware", "home_textiles"}

// movingHouse (look-alike of structuring over a week and of the slow drain):
// over three days a customer pays 4–7 furniture and appliance shops they
// never used 800–9,800 each, daytime, at the till or from their phone; in
// four moves of ten one of them is a sofa or a fridge just under 10,000.
func (g *generator) movingHouse(rng *rand.Rand) {
	c := g.anyActive(rng)
	first := g.lateDay(rng, baselineDay, 3)
	n := 4 + rng.IntN(4)
	for k := range n {
		t := c.home.local(g.t.Start, first+rng.IntN(3), clockBetween(rng, 10, 19))
		if !c.homeAt(t) || !g.inWindow(t) {
			continue
		}
		cat := movingCategories[rng.IntN(len(movingCategories))]
		cents := logUniform(rng, 800, 8_900)
		if k == 0 && rng.Float64() < 0.4 {
			cents = 900_000 + rng.Int64N(80_000)
		}
		e := event{Account: c.acct, At: t, AmountCents: cents, Merchant: fmt.Sprintf("m-%s-%s-%02d", c.home.Code, cat, rng.IntN(10)), Category: cat,
			HasLocation: true, City: c.home, Class: movingHouse, Episode: -1}
		e.Lat, e.Lon = jitter(rng, c.home.Lat, c.home.Lon, 12)
		if rng.IntN(2) == 0 {
			e.Channel = "POS"
		} else {
			e.Channel, e.Device, e.IP = "APP", c.phoneAt(t), c.mobileIP
		}
		g.add(e)
	}
}

// yearlyTreat (look-alike of the takeover off the baseline): a customer buys
// the one big thing of their year, 5–9 times their usual amount in a
// category they never paid, in the daytime, on their own device or at the
// till.
func (g *generator) yearlyTreat(rng *rand.Rand) {
	c := g.anyActive(rng)
	m, ok := g.newCategoryFor(rng, c)
	if !ok {
		return
	}
	t := c.home.local(g.t.Start, g.lateDay(rng, baselineDay, 1), clockBetween(rng, 10, 21))
	if !c.homeAt(t) || !g.inWindow(t) {
		return
	}
	e := event{Account: c.acct, At: t, AmountCents: offBaselineCents(c, 5+4*rng.Float64()), Merchant: m.ID, Category: m.Category,
		HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon, Class: yearlyTreat, Episode: -1}
	e.Channel, e.Device, e.IP = c.ownDevice(rng, t)
	g.add(e)
}

// journeyExtras makes a journey look like one to the suppression context:
// most travellers book the flight with an airline online 3–14 days before
// (from home, on their own device), and pay a hotel on arrival.
func (g *generator) journeyExtras(rng *rand.Rand, c *customer) {
	tr := c.trip
	if rng.Float64() < 0.8 {
		departDay := int(tr.depart.Sub(g.t.Start).Hours() / 24)
		t := c.home.local(g.t.Start, departDay-3-rng.IntN(12), dayClock(rng))
		if g.inWindow(t) && c.homeAt(t) {
			e := event{Account: c.acct, At: t, AmountCents: logUniform(rng, 1_500, 8_800), Merchant: fmt.Sprintf("air-%02d", rng.IntN(12)),
				Category: "airline", HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon, Class: journey, Episode: -1}
			e.Channel, e.Device, e.IP = c.ownDevice(rng, t)
			g.add(e)
		}
	}
	if t := tr.arrive.Add(between(rng, time.Hour, 3*time.Hour)).Truncate(time.Second); g.inWindow(t) && t.Before(tr.leave) {
		lat, lon := jitter(rng, tr.dest.Lat, tr.dest.Lon, 8)
		g.add(event{Account: c.acct, At: t, AmountCents: logUniform(rng, 300, 3000), Merchant: fmt.Sprintf("m-%s-hotel-%d", tr.dest.Code, rng.IntN(5)),
			Category: "hotel", Channel: "POS", HasLocation: true, City: tr.dest, Lat: lat, Lon: lon, Class: journey, Episode: -1})
	}
}
