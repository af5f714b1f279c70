package engine

import (
	"math"
	"testing"
	"time"
)

func TestHaversine(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tolerance        float64 // km
	}{
		{"Shanghai to Berlin", 31.2304, 121.4737, 52.52, 13.405, 8400, 84},
		{"Berlin to Shanghai", 52.52, 13.405, 31.2304, 121.4737, 8400, 84},
		{"same point", 31.2304, 121.4737, 31.2304, 121.4737, 0, 1e-9},
		{"one degree of latitude", 0, 0, 1, 0, 111.195, 0.01},
		{"antipodes", 0, 0, 0, 180, math.Pi * earthRadiusKm, 1e-6},
		{"across the date line", 0, 179.5, 0, -179.5, 111.195, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Haversine(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			if math.Abs(got-tt.want) > tt.tolerance {
				t.Errorf("got %.3f km; want %.3f ± %.3f", got, tt.want, tt.tolerance)
			}
		})
	}
}

func TestTravelSpeed(t *testing.T) {
	tests := []struct {
		name    string
		distKm  float64
		elapsed time.Duration
		want    float64
	}{
		{"800 km in an hour", 800, time.Hour, 800},
		{"100 km in 30 minutes", 100, 30 * time.Minute, 200},
		{"standing still", 0, time.Hour, 0},
		{"standing still, no time", 0, 0, 0},
		{"distance in no time", 100, 0, ImpossibleSpeedKmh},
		{"distance with clock skew", 100, -time.Minute, ImpossibleSpeedKmh},
		{"distance in a nanosecond is capped", 100, time.Nanosecond, ImpossibleSpeedKmh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TravelSpeed(tt.distKm, tt.elapsed); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v km/h; want %v", got, tt.want)
			}
		})
	}
}
