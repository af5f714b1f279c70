package engine

import (
	"math"
	"time"
)

// earthRadiusKm is the IUGG mean Earth radius.
const earthRadiusKm = 6371.0088

// ImpossibleSpeedKmh (about the speed of light) stands for "teleported": a
// move with no time elapsed. It is finite, unlike +Inf, so feature snapshots
// stay valid JSON, and it exceeds any threshold a rule may sensibly use.
const ImpossibleSpeedKmh = 1.08e9

// Haversine returns the great-circle distance in km between two points given
// in decimal degrees.
func Haversine(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	sinLat := math.Sin((lat2 - lat1) * rad / 2)
	sinLon := math.Sin((lon2 - lon1) * rad / 2)
	a := sinLat*sinLat + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sinLon*sinLon
	// Rounding can push a a hair above 1 for antipodes; Asin would then be NaN.
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(math.Min(1, a)))
}

// TravelSpeed returns distKm over elapsed in km/h, capped at
// ImpossibleSpeedKmh. Covering a distance in no time (elapsed ≤ 0) is
// ImpossibleSpeedKmh; standing still is 0 whatever the elapsed time.
func TravelSpeed(distKm float64, elapsed time.Duration) float64 {
	switch {
	case distKm <= 0:
		return 0
	case elapsed <= 0:
		return ImpossibleSpeedKmh
	}
	return math.Min(distKm/elapsed.Hours(), ImpossibleSpeedKmh)
}
