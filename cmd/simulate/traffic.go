package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/smartfinance/riskgraph/engine"
)

// Classes label every transaction: a fraud typology or a benign pattern.
// They are the rows of the report, in this order.
const (
	cardTesting         = "card testing"
	accountTakeover     = "account takeover from abroad"
	cashOut             = "cash-out from a new device"
	structuring         = "night structuring under 10,000"
	deviceRing          = "device ring / synthetic accounts"
	muleFanIn           = "mule fan-in"
	dormantReactivation = "dormant-account reactivation"
	// Issue 17's three families (families.go): spread across many
	// customers, slow over days, off the customer's own baseline.
	bustOut         = "bust-out merchant"
	botFarm         = "bot farm on one /24"
	weekStructuring = "structuring over a week"
	slowDrain       = "accelerating slow drain"
	offBaseline     = "takeover off the customer's baseline"
	stolenPhone     = "stolen phone at night"

	ordinary      = "ordinary"
	largePurchase = "legitimate large purchase"
	shoppingSpree = "shopping spree"
	journey       = "journey abroad"
	newPhone      = "new phone"
	returning     = "returning customer"
	// Look-alikes of the three families (lookalikes.go).
	charityDrive = "charity drive"
	campusWiFi   = "campus Wi-Fi at lunch"
	familyTablet = "family sharing one tablet"
	salaryDay    = "salary-day spending"
	movingHouse  = "moving house"
	yearlyTreat  = "once-a-year purchase"
)

var (
	fraudClasses = []string{cardTesting, accountTakeover, cashOut, structuring, deviceRing, muleFanIn, dormantReactivation,
		bustOut, botFarm, weekStructuring, slowDrain, offBaseline, stolenPhone}
	benignClasses = []string{ordinary, largePurchase, shoppingSpree, journey, newPhone, returning,
		charityDrive, campusWiFi, familyTablet, salaryDay, movingHouse, yearlyTreat}
)

// typologyCodes name the typologies on the command line (-holdout).
var typologyCodes = map[string]string{
	"card-testing": cardTesting, "ato-abroad": accountTakeover, "cash-out": cashOut, "night-structuring": structuring,
	"device-ring": deviceRing, "mule-fan-in": muleFanIn, "dormant": dormantReactivation,
	"bust-out": bustOut, "bot-farm": botFarm, "week-structuring": weekStructuring, "slow-drain": slowDrain,
	"off-baseline": offBaseline, "stolen-phone": stolenPhone,
}

// Bounds of the flags.
const (
	// The dormant typology needs an account silent for 20 days, then active again.
	minDays = 21
	// occurredAt may reach 30 days back, and the window starts at a UTC
	// midnight up to a day earlier than "days ago".
	maxDays = 29
	// Mule fan-in needs 8 to 20 distinct payers besides every other victim.
	minUsers = 100
)

type config struct {
	Seed  uint64
	Users int
	Days  int
	// Without lists typologies the traffic leaves out: a held-out
	// typology's episodes are not generated for training (-holdout).
	Without []string
	// Start is the window's first instant, a UTC midnight: the traffic is
	// the same for a seed whatever the date, local hours included.
	Start time.Time
}

func (c config) validate() error {
	var errs []error
	if c.Users < minUsers {
		errs = append(errs, fmt.Errorf("-users %d: want at least %d", c.Users, minUsers))
	}
	if c.Days < minDays || c.Days > maxDays {
		errs = append(errs, fmt.Errorf("-days %d: want %d to %d (dormant accounts need 20 silent days; occurredAt reaches 30 days back)", c.Days, minDays, maxDays))
	}
	if !c.Start.Equal(c.Start.UTC().Truncate(24 * time.Hour)) {
		errs = append(errs, fmt.Errorf("start %s is not a UTC midnight", c.Start))
	}
	return errors.Join(errs...)
}

// account is a user the replay creates. Customers come first, then the
// synthetic accounts of device rings.
type account struct {
	Name      string // unique within the traffic; the replay adds a run tag
	Role      string // USER or VIP
	Synthetic bool
}

type eventKind int

const (
	submitEvent eventKind = iota
	// loginEvent is a login by the account's owner or by whoever stole the password.
	loginEvent
)

// event is one submission or login, with its label.
type event struct {
	Kind    eventKind
	Account int
	At      time.Time
	// The payment (submissions only).
	AmountCents int64
	Merchant    string
	Category    string
	Channel     string
	// Device and IP are empty for card-present POS payments: the device there
	// is the shop's terminal, not the customer's.
	Device string
	IP     string
	// Card-testing bots send no location.
	HasLocation bool
	City        city
	Lat, Lon    float64

	Class   string
	Fraud   bool
	Episode int // index into traffic.Episodes; -1 for benign traffic
}

// episode is one attack: every transaction of it carries its index.
type episode struct {
	Typology string
	Accounts []int
}

// traffic is everything one seed generates, events in event-time order.
type traffic struct {
	config
	Accounts []account
	Events   []event
	Episodes []episode
}

func (t *traffic) end() time.Time { return t.Start.AddDate(0, 0, t.Days) }

// customer is an ordinary account holder as the generator sees them.
type customer struct {
	acct       int
	home       city
	lat, lon   float64 // where they live, within the city
	phone      string
	laptop     string // "" when they pay online from the phone only
	homeIP     string
	mobileIP   string
	median     float64 // typical amount, currency units
	sigma      float64 // spread of log(amount)
	rate       float64 // payments per day
	favourites []merchant

	// dormant customers pay on the first day only, then fall silent.
	dormant    bool
	lastActive time.Time
	trip       *trip
	// A new phone replaces phone from switchAt on.
	newPhone string
	switchAt time.Time
	// busy customers are already some episode's victim or payer.
	busy bool
}

// trip is a journey abroad: two flights at airliner speed.
type trip struct {
	dest                        city
	depart, arrive, leave, back time.Time
}

// placeAt is where the customer is at t; ok is false while flying.
func (c *customer) placeAt(t time.Time) (where city, ok bool) {
	tr := c.trip
	switch {
	case tr == nil || t.Before(tr.depart) || !t.Before(tr.back):
		return c.home, true
	case !t.Before(tr.arrive) && t.Before(tr.leave):
		return tr.dest, true
	}
	return city{}, false
}

// phoneAt is the phone the customer pays with at t.
func (c *customer) phoneAt(t time.Time) string {
	if c.newPhone != "" && !t.Before(c.switchAt) {
		return c.newPhone
	}
	return c.phone
}

type generator struct {
	t         *traffic
	customers []*customer
}

// Random streams: each part of the generation draws from its own, so
// changing one part leaves the others' traffic as it was.
const (
	streamPopulation = iota + 1
	streamOrdinary
	streamFraud
	streamLarge
	streamSpree
	streamReturning
	// Issue 17: appended, so the streams above draw as before.
	streamFamilies
	streamLookalikes
	streamJourneyExtras
)

func (g *generator) rng(stream, index int) *rand.Rand {
	return rand.New(rand.NewPCG(g.t.Seed, uint64(stream)<<32|uint64(index)))
}

// generate builds the labelled traffic of a seed: a pure function of cfg.
func generate(cfg config) (*traffic, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &generator{t: &traffic{config: cfg}}
	g.population()
	for i, c := range g.customers {
		g.everyday(c, g.rng(streamOrdinary, i))
	}
	for i, c := range g.customers {
		if c.trip != nil {
			g.journeyExtras(g.rng(streamJourneyExtras, i), c)
		}
	}
	g.fraud(g.rng(streamFraud, 0))
	g.largePurchases(g.rng(streamLarge, 0))
	g.sprees(g.rng(streamSpree, 0))
	g.returningCustomers(g.rng(streamReturning, 0))
	g.families(g.rng(streamFamilies, 0))
	g.lookalikes(g.rng(streamLookalikes, 0))
	// Stable: events generated in a fixed order keep it among equal times.
	slices.SortStableFunc(g.t.Events, func(a, b event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return a.Account - b.Account
	})
	return g.t, nil
}

// Shares of the population with each trait.
const (
	dormantShare  = 0.04
	tripShare     = 0.08
	newPhoneShare = 0.05
	laptopShare   = 0.35
	spreeShare    = 0.12
	vipMedian     = 300 // customers paying this much typically are VIPs (about 5%)
)

func (g *generator) population() {
	rng := g.rng(streamPopulation, 0)
	t := g.t
	for i := range t.Users {
		c := &customer{acct: i, home: homeCities[weighted(rng, homeWeights)]}
		c.lat, c.lon = jitter(rng, c.home.Lat, c.home.Lon, 15)
		c.phone = fmt.Sprintf("phone-%d", i)
		if rng.Float64() < laptopShare {
			c.laptop = fmt.Sprintf("laptop-%d", i)
		}
		c.homeIP = fmt.Sprintf("10.%d.%d.%d", i>>8&255, i&255, 2+rng.IntN(250))
		c.mobileIP = fmt.Sprintf("100.%d.%d.%d", 64+rng.IntN(64), rng.IntN(256), 1+rng.IntN(254))
		c.median = math.Min(1500, math.Max(12, math.Exp(math.Log(110)+0.6*rng.NormFloat64())))
		c.sigma = 0.6 + 0.5*rng.Float64()
		c.rate = math.Min(6, math.Max(0.2, math.Exp(math.Log(1.3)+0.5*rng.NormFloat64())))
		for range 3 + rng.IntN(5) {
			if rng.IntN(2) == 0 {
				c.favourites = append(c.favourites, shop(c.home, rng.IntN(shopsPerCity)))
			} else {
				c.favourites = append(c.favourites, online(rng.IntN(onlineMerchants)))
			}
		}
		role := "USER"
		if c.median >= vipMedian {
			role = "VIP"
		}
		t.Accounts = append(t.Accounts, account{Name: fmt.Sprintf("c%05d", i), Role: role})

		c.dormant = rng.Float64() < dormantShare
		if !c.dormant && rng.Float64() < tripShare {
			c.trip = g.planTrip(rng, c)
		}
		if !c.dormant && rng.Float64() < newPhoneShare {
			// After weeks on the old phone (months, before the window began),
			// bought at home: a few tries find a day they aren't abroad.
			for range 10 {
				at := c.home.local(t.Start, t.Days/3+rng.IntN(t.Days/3), clockBetween(rng, 9, 21))
				if where, ok := c.placeAt(at); ok && where == c.home {
					c.switchAt, c.newPhone = at, fmt.Sprintf("phone-%d-new", i)
					break
				}
			}
		}
		g.customers = append(g.customers, c)
	}
}

// planTrip sends the customer abroad for 3 to 8 days. Each flight takes
// distance ÷ 700–900 km/h from the last payment at one airport to the first
// at the other, so the apparent speed straddles the 800 km/h travel rule.
func (g *generator) planTrip(rng *rand.Rand, c *customer) *trip {
	tr := &trip{dest: journeyCities[rng.IntN(len(journeyCities))]}
	flight := func() time.Duration {
		km := haversineKm(c.home, tr.dest)
		return time.Duration(km / (700 + 200*rng.Float64()) * float64(time.Hour)).Truncate(time.Second)
	}
	tr.depart = c.home.local(g.t.Start, 2+rng.IntN(g.t.Days-6), clockBetween(rng, 8, 20))
	tr.arrive = tr.depart.Add(flight())
	tr.leave = tr.arrive.Add(between(rng, 3*24*time.Hour, 8*24*time.Hour)).Truncate(time.Second)
	tr.back = tr.leave.Add(flight())
	return tr
}

// everyday generates a customer's own payments: the daily rhythm, and the
// journey's airport payments and the new phone's first purchase.
func (g *generator) everyday(c *customer, rng *rand.Rand) {
	t := g.t
	if c.dormant {
		// A morning on the first day (local 08:00 is the window's first instant
		// in China), leaving room for 20 silent days.
		for range 1 + rng.IntN(3) {
			if at := c.home.local(t.Start, 0, clockBetween(rng, 8, 12)); g.inWindow(at) {
				g.pay(rng, c, at, ordinary)
				c.lastActive = maxTime(c.lastActive, at)
			}
		}
		return
	}
	for day := range t.Days {
		// The time zone of "daytime" is that of where they are at home noon.
		zone, ok := c.placeAt(c.home.local(t.Start, day, 12*time.Hour))
		if !ok {
			zone = c.home
		}
		rate := c.rate
		if zone != c.home {
			rate *= 1.5 // travellers pay for everything
		}
		for range poisson(rng, rate) {
			at := zone.local(t.Start, day, dayClock(rng))
			// Payments that would fall in a flight or in another time zone than
			// the day began in are simply not made.
			if where, ok := c.placeAt(at); !ok || where != zone || !g.inWindow(at) {
				continue
			}
			g.pay(rng, c, at, ordinary)
		}
	}
	if tr := c.trip; tr != nil {
		for _, leg := range []struct {
			at       time.Time
			where    city
			arriving bool
		}{{tr.depart, c.home, false}, {tr.arrive, tr.dest, true}, {tr.leave, tr.dest, false}, {tr.back, c.home, true}} {
			if g.inWindow(leg.at) {
				g.airport(rng, c, leg.at, leg.where, leg.arriving)
			}
		}
	}
	if c.newPhone != "" {
		// Setting up the phone: the first app-store purchase on it.
		m := onlineOf(rng, "subscription")
		g.add(event{Account: c.acct, At: c.switchAt, AmountCents: logUniform(rng, 6, 68), Merchant: m.ID, Category: m.Category,
			Channel: "APP", Device: c.newPhone, IP: c.mobileIP, HasLocation: true, City: c.home, Lat: c.lat, Lon: c.lon,
			Class: newPhone, Episode: -1})
	}
}

// airport is a payment at an airport: the last before a flight, at a shop,
// or the first after one, a ride from the airport booked in the app on the
// customer's own phone. It sits at the city centre, the point the flight
// time was computed from.
func (g *generator) airport(rng *rand.Rand, c *customer, at time.Time, where city, arriving bool) {
	e := event{Account: c.acct, At: at, AmountCents: logUniform(rng, 25, 400), Merchant: "m-" + where.Code + "-airport",
		Category: "airport_retail", Channel: "POS", HasLocation: true, City: where, Lat: where.Lat, Lon: where.Lon,
		Class: journey, Episode: -1}
	if arriving {
		e.Merchant, e.Category = "ride-"+where.Code+"-airport", "ride_hailing"
		e.Channel, e.Device, e.IP = "APP", c.phoneAt(at), c.mobileIP
	}
	g.add(e)
}

// pay is one of the customer's own payments at a merchant they would use,
// labelled class unless a benign pattern explains it better.
func (g *generator) pay(rng *rand.Rand, c *customer, at time.Time, class string) {
	where, _ := c.placeAt(at)
	var m merchant
	switch {
	case where != c.home && rng.Float64() < 0.7:
		m = shop(where, rng.IntN(shopsPerCity))
	case where == c.home && rng.Float64() < 0.75:
		m = c.favourites[rng.IntN(len(c.favourites))]
	case rng.IntN(2) == 0:
		m = shop(where, rng.IntN(shopsPerCity))
	default:
		m = online(rng.IntN(onlineMerchants))
	}
	e := event{Account: c.acct, At: at, AmountCents: c.amount(rng, m.Scale), Merchant: m.ID, Category: m.Category,
		HasLocation: true, City: where, Class: class, Episode: -1}
	switch {
	case m.POS:
		e.Lat, e.Lon = jitter(rng, where.Lat, where.Lon, 12) // the shop
	case where == c.home:
		e.Lat, e.Lon = c.lat, c.lon
	default:
		e.Lat, e.Lon = jitter(rng, where.Lat, where.Lon, 8) // the hotel
	}
	switch {
	case m.POS && rng.Float64() < 0.7:
		e.Channel = "POS"
	case m.POS || c.laptop == "" || where != c.home || rng.Float64() < 0.7:
		// Roaming phones keep their home carrier's address.
		e.Channel, e.Device, e.IP = "APP", c.phoneAt(at), c.mobileIP
	default:
		e.Channel, e.Device, e.IP = "WEB", c.laptop, c.homeIP
	}
	if class == ordinary {
		switch {
		case c.trip != nil && !at.Before(c.trip.depart) && at.Before(c.trip.back):
			e.Class = journey
		case e.Device != "" && e.Device == c.newPhone && at.Before(c.switchAt.Add(newPhoneWindow)):
			e.Class = newPhone
		}
	}
	g.add(e)
}

// newPhoneWindow is how long payments from a new phone count as the "new
// phone" pattern: the time a naive new-device rule would fire.
const newPhoneWindow = 72 * time.Hour

// amount draws from the customer's log-normal, scaled by the merchant, in
// cents; ordinary payments stay under 10,000 (large ones are their own pattern).
func (c *customer) amount(rng *rand.Rand, scale float64) int64 {
	for {
		v := c.median * scale * math.Exp(c.sigma*rng.NormFloat64())
		if v >= 1 && v < 10_000 {
			return int64(math.Round(v * 100))
		}
	}
}

func (g *generator) add(e event) { g.t.Events = append(g.t.Events, e) }

func (g *generator) inWindow(at time.Time) bool {
	return !at.Before(g.t.Start) && at.Before(g.t.end())
}

// pick draws up to n distinct customers that ok accepts and marks them busy,
// so no customer is the victim of two episodes.
func (g *generator) pick(rng *rand.Rand, n int, ok func(*customer) bool) []*customer {
	var out []*customer
	for _, i := range rng.Perm(len(g.customers)) {
		if len(out) == n {
			break
		}
		if c := g.customers[i]; !c.busy && ok(c) {
			c.busy = true
			out = append(out, c)
		}
	}
	return out
}

// athome: an active customer who isn't travelling, the usual victim.
func athome(c *customer) bool { return !c.dormant && c.trip == nil }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// haversineKm is the flight distance between two cities' centres.
func haversineKm(a, b city) float64 { return engine.Haversine(a.Lat, a.Lon, b.Lat, b.Lon) }
