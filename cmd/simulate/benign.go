package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The benign patterns below look like fraud to naive rules; journeys and new
// phones come with the customer's everyday payments (everyday).

// largePurchases: rent, a car, tuition: 10,000 to 80,000 paid at home in the
// daytime from the customer's own device, by about one customer in fifty a month.
func (g *generator) largePurchases(rng *rand.Rand) {
	for range max(1, int(math.Round(float64(g.t.Users*g.t.Days)/30/50))) {
		c := g.anyActive(rng)
		at, ok := g.daytimeAtHome(rng, c, 9, 20)
		if !ok {
			continue
		}
		cat := bigTicketCategories[rng.IntN(len(bigTicketCategories))]
		e := event{Account: c.acct, At: at, AmountCents: logUniform(rng, 10_000, 80_000), Merchant: fmt.Sprintf("big-%s-%02d", cat, rng.IntN(20)),
			Category: cat, HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon, Class: largePurchase, Episode: -1}
		if c.laptop != "" {
			e.Channel, e.Device, e.IP = "WEB", c.laptop, c.homeIP
		} else {
			e.Channel, e.Device, e.IP = "APP", c.phoneAt(at), c.mobileIP
		}
		g.add(e)
	}
}

var mallCategories = []string{"fashion", "cafe", "electronics", "cosmetics", "shoes", "toys", "bookshop", "restaurant"}

const shopsPerMall = 12

// sprees: an afternoon at the mall, 5 to 9 small purchases at different
// shops within ten minutes: the velocity rule's classic false positive.
func (g *generator) sprees(rng *rand.Rand) {
	for _, c := range g.customers {
		if c.dormant || rng.Float64() >= spreeShare {
			continue
		}
		at, ok := g.daytimeAtHome(rng, c, 13, 19)
		if !ok {
			continue
		}
		mall := rng.IntN(3)
		// A mall is one building: every shop in it reports the same place.
		lat, lon := round6(c.home.Lat+0.02*float64(mall+1)), round6(c.home.Lon-0.015*float64(mall+1))
		shops := rng.Perm(shopsPerMall)
		for k, t := range burst(rng, at, 5+rng.IntN(5), 0, 9*time.Minute+30*time.Second) {
			e := event{Account: c.acct, At: t, AmountCents: logUniform(rng, 20, 600),
				Merchant: fmt.Sprintf("m-%s-mall%d-%02d", c.home.Code, mall, shops[k]), Category: mallCategories[shops[k]%len(mallCategories)],
				Channel: "POS", HasLocation: true, City: c.home, Lat: lat, Lon: lon, Class: shoppingSpree, Episode: -1}
			if rng.Float64() < 0.3 {
				e.Channel, e.Device, e.IP = "APP", c.phoneAt(t), c.mobileIP
			}
			g.add(e)
		}
	}
}

// returningCustomers: half the dormant customers nobody attacked come back
// by themselves after 20 silent days, on their own phone, paying as they used to.
func (g *generator) returningCustomers(rng *rand.Rand) {
	for _, c := range g.customers {
		if !c.dormant || c.lastActive.IsZero() || c.busy || rng.IntN(2) == 0 {
			continue
		}
		lo := c.lastActive.Add(20*24*time.Hour + time.Hour)
		for range 1 + rng.IntN(2) {
			g.pay(rng, c, g.daytimeBetween(rng, c.home, lo, g.t.end()), returning)
		}
	}
}

// anyActive draws a customer who isn't dormant.
func (g *generator) anyActive(rng *rand.Rand) *customer {
	for {
		if c := g.customers[rng.IntN(len(g.customers))]; !c.dormant {
			return c
		}
	}
}

// daytimeAtHome draws a local time between fromHour and toHour on a day from
// the second on, when the customer is at home; ok is false if none was found
// in a few tries (a customer abroad for most of the window).
func (g *generator) daytimeAtHome(rng *rand.Rand, c *customer, fromHour, toHour float64) (time.Time, bool) {
	for range 20 {
		at := c.home.local(g.t.Start, 1+rng.IntN(g.t.Days-1), clockBetween(rng, fromHour, toHour))
		if where, ok := c.placeAt(at); ok && where == c.home && g.inWindow(at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// daytimeBetween draws an instant in [lo, hi) at an hour of the daily rhythm
// in where's time zone; hi - lo is at least a few hours.
func (g *generator) daytimeBetween(rng *rand.Rand, where city, lo, hi time.Time) time.Time {
	first := int(lo.Sub(g.t.Start).Hours() / 24)
	for range 50 {
		at := where.local(g.t.Start, first+rng.IntN(g.t.Days-first), dayClock(rng))
		if !at.Before(lo) && at.Before(hi) {
			return at
		}
	}
	return lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
}
