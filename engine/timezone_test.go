package engine

import "testing"

func TestLocalZone(t *testing.T) {
	for _, tt := range []struct {
		country string
		lon     float64
		hasLon  bool
		want    string
	}{
		{"CN", 121.47, true, "Asia/Shanghai"},
		{" cn ", 0, false, "Asia/Shanghai"},
		{"US", -74.0, true, "America/New_York"},
		{"US", -118.24, true, "America/Los_Angeles"},
		{"US", -104.99, true, "America/Denver"},
		{"US", 0, false, "America/New_York"}, // most populous band without a longitude
		{"RU", 37.6, true, "Europe/Moscow"},
		{"RU", 131.9, true, "Asia/Yakutsk"},
		{"AU", 115.86, true, "Australia/Perth"},
		{"XX", 121.47, true, "UTC+08:00"}, // unknown country: the sun's offset
		{"", -46.6, true, "UTC-03:00"},
		{"", 0, false, "UTC"},
	} {
		if got := LocalZone(tt.country, tt.lon, tt.hasLon).String(); got != tt.want {
			t.Errorf("LocalZone(%q, %v, %v): got %s; want %s", tt.country, tt.lon, tt.hasLon, got, tt.want)
		}
	}
}
