package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// The realistic mix. Shares are per request unless said otherwise.
const (
	hotUserShare    = 0.20  // the busiest fifth of users …
	hotTxShare      = 0.80  // … make four fifths of the transactions
	largeShare      = 0.035 // amounts ≥ 10,000 (the large-amount rule)
	burstStartShare = 0.004 // starts a burst of burstLen transactions for one user (velocity rule)
	burstLen        = 6
	travelShare     = 0.008 // from a city far from home (impossible travel when recent)
	foreignDevShare = 0.05  // a device the user has not used
	noDeviceShare   = 0.01
	noLocationShare = 0.10
	sharedDevShare  = 0.03 // users who also use another user's device
	abnormalShare   = 0.01 // devices marked ABNORMAL
	blacklistShare  = 0.001
	vipShare        = 0.05
	merchants       = 5000
)

var categories = []string{"grocery", "restaurant", "electronics", "travel", "fuel", "fashion", "utilities", "gaming", "pharmacy", "gift_cards"}

type city struct {
	name, country string
	lat, lon      float64
}

var cities = []city{
	{"Shanghai", "CN", 31.2304, 121.4737}, {"Beijing", "CN", 39.9042, 116.4074}, {"Shenzhen", "CN", 22.5431, 114.0579},
	{"Guangzhou", "CN", 23.1291, 113.2644}, {"Chengdu", "CN", 30.5728, 104.0668}, {"Hangzhou", "CN", 30.2741, 120.1551},
	{"Wuhan", "CN", 30.5928, 114.3055}, {"Xi'an", "CN", 34.3416, 108.9398}, {"Hong Kong", "HK", 22.3193, 114.1694},
	{"Singapore", "SG", 1.3521, 103.8198}, {"Tokyo", "JP", 35.6762, 139.6503}, {"Seoul", "KR", 37.5665, 126.9780},
	{"London", "GB", 51.5072, -0.1276}, {"Paris", "FR", 48.8566, 2.3522}, {"New York", "US", 40.7128, -74.0060},
	{"San Francisco", "US", 37.7749, -122.4194}, {"Sydney", "AU", -33.8688, 151.2093}, {"Dubai", "AE", 25.2048, 55.2708},
}

// homeCities are where users live: the first eight (mainland) cities.
const homeCities = 8

type benchUser struct {
	id        int64
	vip       bool
	createdAt time.Time
	home      int
	devices   []int // indexes into population.devices
	ip        [2]byte
}

type benchDevice struct {
	id          int64
	fingerprint string
	status      string
	firstSeen   time.Time
}

// population is the bench's users and devices; IDs are set when it is seeded.
type population struct {
	users   []benchUser
	devices []benchDevice
}

// newPopulation builds users and devices deterministically from seed.
func newPopulation(users, devices int, seed uint64) *population {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	now := time.Now().UTC()
	p := &population{users: make([]benchUser, users), devices: make([]benchDevice, max(devices, users))}
	for i := range p.devices {
		d := &p.devices[i]
		d.fingerprint = fmt.Sprintf("fp-%08x-%d", rng.Uint32(), i)
		d.status = "NORMAL"
		switch r := rng.Float64(); {
		case r < blacklistShare:
			d.status = "BLACKLISTED"
		case r < blacklistShare+abnormalShare:
			d.status = "ABNORMAL"
		}
		d.firstSeen = now.Add(-time.Duration(1+rng.IntN(700)) * 24 * time.Hour)
	}
	for i := range p.users {
		u := &p.users[i]
		u.vip = rng.Float64() < vipShare
		u.createdAt = now.Add(-time.Duration(30+rng.IntN(1000)) * 24 * time.Hour)
		u.home = rng.IntN(homeCities)
		u.ip = [2]byte{byte(rng.IntN(256)), byte(rng.IntN(256))}
		u.devices = []int{i} // everyone has a phone of their own
	}
	// The remaining devices go to random users; a few users share someone else's.
	for d := len(p.users); d < len(p.devices); d++ {
		u := &p.users[rng.IntN(len(p.users))]
		u.devices = append(u.devices, d)
	}
	for i := range p.users {
		if rng.Float64() < sharedDevShare {
			other := p.users[rng.IntN(len(p.users))].devices[0]
			if other != i {
				p.users[i].devices = append(p.users[i].devices, other)
			}
		}
	}
	return p
}

// pickUser draws a user index with the hot/cold skew.
func (p *population) pickUser(rng *rand.Rand) int {
	hot := max(1, int(float64(len(p.users))*hotUserShare))
	if rng.Float64() < hotTxShare {
		return rng.IntN(hot)
	}
	return hot + rng.IntN(len(p.users)-hot)
}

// submitQuery is what a payment gateway asks for: the decision and why.
const submitQuery = `mutation Submit($in: SubmitTransactionInput!) {
  submitTransaction(input: $in) {
    transaction { id status }
    detection { riskScore riskLevel decision reason matchedRules { name score } }
    alert { id level }
  }
}`

// submitHash is the query's automatic-persisted-query hash: after the first
// request, clients send only the hash.
var submitHash = func() string {
	sum := sha256.Sum256([]byte(submitQuery))
	return hex.EncodeToString(sum[:])
}()

type locationInput struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Country   string  `json:"country"`
	City      string  `json:"city"`
}

type submitInput struct {
	UserID           string         `json:"userId"`
	Amount           string         `json:"amount"`
	Currency         string         `json:"currency"`
	MerchantID       string         `json:"merchantId"`
	MerchantCategory string         `json:"merchantCategory"`
	Channel          string         `json:"channel"`
	DeviceID         *string        `json:"deviceId,omitempty"`
	IPAddress        string         `json:"ipAddress"`
	Location         *locationInput `json:"location,omitempty"`
	IdempotencyKey   string         `json:"idempotencyKey"`
}

var persistedQuery = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": submitHash}}

// submitBody is one submitTransaction request; withQuery sends the document
// too (the first request, which registers the persisted query).
func submitBody(in submitInput, withQuery bool) []byte {
	req := devserver.Request{Variables: map[string]any{"in": in}, Extensions: persistedQuery}
	if withQuery {
		req.Query = submitQuery
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return b
}

// generator draws the request mix; it is safe for concurrent use.
type generator struct {
	mu        sync.Mutex
	rng       *rand.Rand
	merchants *rand.Zipf
	pop       *population
	run       string
	seq       uint64
	burstUser int
	burstLeft int
	burstsRun int
}

func newGenerator(pop *population, run string, seed uint64) *generator {
	rng := rand.New(rand.NewPCG(seed, 0x10ad))
	return &generator{rng: rng, merchants: rand.NewZipf(rng, 1.1, 8, merchants-1), pop: pop, run: run}
}

// next draws one submission.
func (g *generator) next() submitInput {
	g.mu.Lock()
	defer g.mu.Unlock()
	rng := g.rng
	g.seq++
	var ui int
	switch {
	case g.burstLeft > 0:
		ui = g.burstUser
		g.burstLeft--
	case rng.Float64() < burstStartShare:
		g.burstUser, g.burstLeft = g.pop.pickUser(rng), burstLen-1
		ui = g.burstUser
		g.burstsRun++
	default:
		ui = g.pop.pickUser(rng)
	}
	u := &g.pop.users[ui]
	m := g.merchants.Uint64()
	amount := g.amount()
	in := submitInput{
		UserID:           fmt.Sprint(u.id),
		Amount:           amount,
		Currency:         pick(rng, []string{"CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "CNY", "USD", "HKD"}),
		MerchantID:       fmt.Sprintf("m-%d", m),
		MerchantCategory: categories[m%uint64(len(categories))],
		Channel:          pick(rng, []string{"APP", "APP", "APP", "APP", "APP", "APP", "WEB", "WEB", "POS", "API"}),
		IPAddress:        fmt.Sprintf("10.%d.%d.%d", u.ip[0], u.ip[1], 1+rng.IntN(250)),
		IdempotencyKey:   fmt.Sprintf("%s-%d", g.run, g.seq),
	}
	switch r := rng.Float64(); {
	case r < noDeviceShare:
	case r < noDeviceShare+foreignDevShare:
		in.DeviceID = &g.pop.devices[rng.IntN(len(g.pop.devices))].fingerprint
	default:
		in.DeviceID = &g.pop.devices[u.devices[rng.IntN(len(u.devices))]].fingerprint
	}
	if rng.Float64() >= noLocationShare {
		c := cities[u.home]
		if rng.Float64() < travelShare {
			c = cities[homeCities+rng.IntN(len(cities)-homeCities)]
		}
		// A few kilometres around the city centre.
		in.Location = &locationInput{Latitude: c.lat + (rng.Float64()-0.5)*0.05, Longitude: c.lon + (rng.Float64()-0.5)*0.05,
			Country: c.country, City: c.name}
	}
	return in
}

// amount is log-normal around ¥120 with a long tail, plus a share of large
// payments; always two decimals.
func (g *generator) amount() string {
	rng := g.rng
	v := math.Min(9_999, math.Max(1, 120*math.Exp(1.1*rng.NormFloat64())))
	if rng.Float64() < largeShare {
		v = 10_000 + rng.Float64()*50_000
	}
	return fmt.Sprintf("%.2f", v)
}

// bursts is how many velocity bursts were started so far.
func (g *generator) bursts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.burstsRun
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
