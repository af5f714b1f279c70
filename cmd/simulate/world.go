package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// city is a place transactions happen. The offset is fixed (no daylight
// saving): the simulator only needs it to put activity in local daytime.
type city struct {
	Code      string // IATA code, also the prefix of the city's shop IDs
	Name      string
	Country   string
	Lat, Lon  float64
	UTCOffset int // hours
}

// local converts a local wall-clock time on day `day` of the window
// (counted from start, a UTC midnight) to an instant.
func (c city) local(start time.Time, day int, clock time.Duration) time.Time {
	return start.AddDate(0, 0, day).Add(clock - time.Duration(c.UTCOffset)*time.Hour)
}

// homeCities are where customers live: the service is a mainland bank, so
// they share one time zone, and "night" in UTC is not night for them.
var homeCities = []city{
	{"SHA", "Shanghai", "CN", 31.2304, 121.4737, 8}, {"PEK", "Beijing", "CN", 39.9042, 116.4074, 8},
	{"SZX", "Shenzhen", "CN", 22.5431, 114.0579, 8}, {"CAN", "Guangzhou", "CN", 23.1291, 113.2644, 8},
	{"CTU", "Chengdu", "CN", 30.5728, 104.0668, 8}, {"HGH", "Hangzhou", "CN", 30.2741, 120.1551, 8},
	{"WUH", "Wuhan", "CN", 30.5928, 114.3055, 8}, {"XIY", "Xi'an", "CN", 34.3416, 108.9398, 8},
	{"NKG", "Nanjing", "CN", 32.0603, 118.7969, 8}, {"CKG", "Chongqing", "CN", 29.5630, 106.5516, 8},
}

// homeWeights skews the population towards the largest cities.
var homeWeights = []float64{18, 16, 12, 12, 9, 9, 7, 6, 6, 5}

// journeyCities are where customers fly on holiday or business.
var journeyCities = []city{
	{"NRT", "Tokyo", "JP", 35.6762, 139.6503, 9}, {"ICN", "Seoul", "KR", 37.5665, 126.9780, 9},
	{"SIN", "Singapore", "SG", 1.3521, 103.8198, 8}, {"BKK", "Bangkok", "TH", 13.7563, 100.5018, 7},
	{"HKG", "Hong Kong", "HK", 22.3193, 114.1694, 8}, {"LHR", "London", "GB", 51.5072, -0.1276, 0},
	{"CDG", "Paris", "FR", 48.8566, 2.3522, 1}, {"JFK", "New York", "US", 40.7128, -74.0060, -5},
	{"SYD", "Sydney", "AU", -33.8688, 151.2093, 10}, {"DXB", "Dubai", "AE", 25.2048, 55.2708, 4},
}

// attackerCities are where account takeovers come from.
var attackerCities = []city{
	{"LOS", "Lagos", "NG", 6.5244, 3.3792, 1}, {"SVO", "Moscow", "RU", 55.7558, 37.6173, 3},
	{"GRU", "São Paulo", "BR", -23.5505, -46.6333, -3}, {"OTP", "Bucharest", "RO", 44.4268, 26.1025, 2},
	{"CGK", "Jakarta", "ID", -6.2088, 106.8456, 7}, {"MNL", "Manila", "PH", 14.5995, 120.9842, 8},
	{"LAX", "Los Angeles", "US", 34.0522, -118.2437, -8}, {"IST", "Istanbul", "TR", 41.0082, 28.9784, 3},
}

// merchant is a payee. Card-present shops (POS) belong to a city; online
// merchants and transfer payees have none.
type merchant struct {
	ID       string
	Category string
	// Scale multiplies a customer's typical amount: a fuel fill costs more than a coffee.
	Scale float64
	POS   bool
}

// Shops every city has; shop n of a city has category posCategories[n % len].
var posCategories = []struct {
	name  string
	scale float64
}{{"grocery", 1}, {"restaurant", 1.1}, {"cafe", 0.3}, {"fuel", 1.8}, {"pharmacy", 0.7}, {"fashion", 2.2}}

const shopsPerCity = 48

func shop(c city, n int) merchant {
	cat := posCategories[n%len(posCategories)]
	return merchant{ID: fmt.Sprintf("m-%s-%02d", c.Code, n), Category: cat.name, Scale: cat.scale, POS: true}
}

var onlineCategories = []struct {
	name  string
	scale float64
}{{"electronics", 3}, {"food_delivery", 0.6}, {"utilities", 1.5}, {"gaming", 0.5}, {"subscription", 0.3},
	{"travel", 4}, {"fashion_online", 1.5}, {"gift_cards", 1}, {"p2p_transfer", 2}}

const onlineMerchants = 180

func online(n int) merchant {
	cat := onlineCategories[n%len(onlineCategories)]
	return merchant{ID: fmt.Sprintf("o-%03d", n), Category: cat.name, Scale: cat.scale}
}

// onlineOf picks an online merchant of one category.
func onlineOf(rng *rand.Rand, category string) merchant {
	for {
		if m := online(rng.IntN(onlineMerchants)); m.Category == category {
			return m
		}
	}
}

// Big-ticket payees of legitimate large purchases.
var bigTicketCategories = []string{"rent", "car_dealer", "furniture", "tuition", "jewellery", "travel_agency"}

// hourWeights is the daily rhythm of ordinary payments by local hour: quiet
// at night, peaks at lunch and in the evening.
var hourWeights = [24]float64{
	0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 1, 3, 5, 5, 5, 6,
	8, 6, 5, 5, 5, 6, 8, 9, 8, 6, 4, 2,
}

// dayClock draws a local time of day from the daily rhythm.
func dayClock(rng *rand.Rand) time.Duration {
	return time.Duration(weighted(rng, hourWeights[:]))*time.Hour + time.Duration(rng.IntN(3600))*time.Second
}

// clockBetween draws a local time of day uniformly in [from, to) hours.
func clockBetween(rng *rand.Rand, from, to float64) time.Duration {
	return time.Duration((from + rng.Float64()*(to-from)) * float64(time.Hour)).Truncate(time.Second)
}

// weighted draws an index with probability proportional to its weight.
func weighted(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	r := rng.Float64() * total
	for i, w := range weights {
		if r < w {
			return i
		}
		r -= w
	}
	return len(weights) - 1
}

// logUniform draws an amount in cents between lo and hi currency units,
// spread evenly over orders of magnitude as ticket sizes are.
func logUniform(rng *rand.Rand, lo, hi float64) int64 {
	return int64(math.Round(math.Exp(math.Log(lo)+rng.Float64()*(math.Log(hi)-math.Log(lo))) * 100))
}

// between draws a duration uniformly in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// poisson draws a count with mean lambda (Knuth; lambda here is a few per day).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// jitter moves a point by up to about radiusKm, so a customer's payments
// aren't all at the city centre.
func jitter(rng *rand.Rand, lat, lon, radiusKm float64) (float64, float64) {
	dLat := (rng.Float64()*2 - 1) * radiusKm / 111
	dLon := (rng.Float64()*2 - 1) * radiusKm / (111 * math.Cos(lat*math.Pi/180))
	return round6(lat + dLat), round6(lon + dLon)
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
