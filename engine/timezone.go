package engine

import (
	"fmt"
	"math"
	"strings"
	"time"
	// The zone database is embedded so local hours don't depend on the host's /usr/share/zoneinfo.
	_ "time/tzdata"
)

// zoneBand is one time zone of a country spanning several: it applies from
// its western longitude eastwards until the next band's.
type zoneBand struct {
	fromLon float64
	zone    string
}

// countryZones maps an ISO 3166-1 alpha-2 code to its time zone. Countries
// with several zones list them as longitude bands, west to east; a country
// given without a longitude gets its first-listed (most populous) band's
// zone. Bands are an approximation by longitude alone: Hawaii, which shares
// Alaska's longitudes, reads as Alaska.
var countryZones = map[string][]zoneBand{
	"CN": {{-180, "Asia/Shanghai"}}, "HK": {{-180, "Asia/Hong_Kong"}}, "MO": {{-180, "Asia/Macau"}},
	"TW": {{-180, "Asia/Taipei"}}, "JP": {{-180, "Asia/Tokyo"}}, "KR": {{-180, "Asia/Seoul"}},
	"SG": {{-180, "Asia/Singapore"}}, "MY": {{-180, "Asia/Kuala_Lumpur"}}, "TH": {{-180, "Asia/Bangkok"}},
	"VN": {{-180, "Asia/Ho_Chi_Minh"}}, "PH": {{-180, "Asia/Manila"}}, "IN": {{-180, "Asia/Kolkata"}},
	"PK": {{-180, "Asia/Karachi"}}, "BD": {{-180, "Asia/Dhaka"}}, "LK": {{-180, "Asia/Colombo"}},
	"NP": {{-180, "Asia/Kathmandu"}}, "MM": {{-180, "Asia/Yangon"}}, "KH": {{-180, "Asia/Phnom_Penh"}},
	"AE": {{-180, "Asia/Dubai"}}, "SA": {{-180, "Asia/Riyadh"}}, "QA": {{-180, "Asia/Qatar"}},
	"IL": {{-180, "Asia/Jerusalem"}}, "TR": {{-180, "Europe/Istanbul"}}, "IR": {{-180, "Asia/Tehran"}},
	"GB": {{-180, "Europe/London"}}, "IE": {{-180, "Europe/Dublin"}}, "FR": {{-180, "Europe/Paris"}},
	"DE": {{-180, "Europe/Berlin"}}, "NL": {{-180, "Europe/Amsterdam"}}, "BE": {{-180, "Europe/Brussels"}},
	"LU": {{-180, "Europe/Luxembourg"}}, "CH": {{-180, "Europe/Zurich"}}, "AT": {{-180, "Europe/Vienna"}},
	"IT": {{-180, "Europe/Rome"}}, "ES": {{-180, "Europe/Madrid"}}, "PT": {{-180, "Europe/Lisbon"}},
	"DK": {{-180, "Europe/Copenhagen"}}, "NO": {{-180, "Europe/Oslo"}}, "SE": {{-180, "Europe/Stockholm"}},
	"FI": {{-180, "Europe/Helsinki"}}, "PL": {{-180, "Europe/Warsaw"}}, "CZ": {{-180, "Europe/Prague"}},
	"HU": {{-180, "Europe/Budapest"}}, "RO": {{-180, "Europe/Bucharest"}}, "BG": {{-180, "Europe/Sofia"}},
	"GR": {{-180, "Europe/Athens"}}, "UA": {{-180, "Europe/Kyiv"}}, "NG": {{-180, "Africa/Lagos"}},
	"EG": {{-180, "Africa/Cairo"}}, "ZA": {{-180, "Africa/Johannesburg"}}, "KE": {{-180, "Africa/Nairobi"}},
	"MA": {{-180, "Africa/Casablanca"}}, "GH": {{-180, "Africa/Accra"}}, "AR": {{-180, "America/Argentina/Buenos_Aires"}},
	"CO": {{-180, "America/Bogota"}}, "PE": {{-180, "America/Lima"}}, "CL": {{-180, "America/Santiago"}},
	"NZ": {{-180, "Pacific/Auckland"}},
	"US": {{-180, "America/New_York"}, {-180, "America/Anchorage"}, {-125, "America/Los_Angeles"},
		{-114, "America/Denver"}, {-102, "America/Chicago"}, {-87, "America/New_York"}},
	"CA": {{-180, "America/Toronto"}, {-141, "America/Vancouver"}, {-120, "America/Edmonton"},
		{-102, "America/Winnipeg"}, {-90, "America/Toronto"}, {-67, "America/Halifax"}},
	"MX": {{-180, "America/Mexico_City"}, {-118, "America/Tijuana"}, {-109, "America/Mazatlan"}, {-102, "America/Mexico_City"}},
	"BR": {{-180, "America/Sao_Paulo"}, {-74, "America/Manaus"}, {-52, "America/Sao_Paulo"}},
	"AU": {{-180, "Australia/Sydney"}, {112, "Australia/Perth"}, {129, "Australia/Adelaide"}, {141, "Australia/Sydney"}},
	"ID": {{-180, "Asia/Jakarta"}, {114, "Asia/Makassar"}, {126, "Asia/Jayapura"}},
	"RU": {{-180, "Europe/Moscow"}, {20, "Europe/Kaliningrad"}, {23, "Europe/Moscow"}, {50, "Asia/Yekaterinburg"},
		{68, "Asia/Omsk"}, {80, "Asia/Novosibirsk"}, {98, "Asia/Irkutsk"}, {113, "Asia/Yakutsk"}, {135, "Asia/Vladivostok"}},
	"KZ": {{-180, "Asia/Almaty"}, {-180, "Asia/Aqtobe"}, {66, "Asia/Almaty"}},
}

// zones holds every zone the table names, loaded once from the embedded database.
var zones = func() map[string]*time.Location {
	m := map[string]*time.Location{}
	for country, bands := range countryZones {
		for _, b := range bands {
			if _, ok := m[b.zone]; ok {
				continue
			}
			loc, err := time.LoadLocation(b.zone)
			if err != nil {
				panic(fmt.Sprintf("engine: time zone %s of %s: %v", b.zone, country, err))
			}
			m[b.zone] = loc
		}
	}
	return m
}()

// solarZones are the fixed zones UTC-12 … UTC+14 by whole hours, for places
// whose country the table lacks.
var solarZones = func() map[int]*time.Location {
	m := map[int]*time.Location{}
	for h := -12; h <= 14; h++ {
		m[h] = time.FixedZone(fmt.Sprintf("UTC%+03d:00", h), h*3600)
	}
	return m
}()

// LocalZone returns the time zone of a place: its country's (by longitude
// within a country spanning several zones, when the longitude is known),
// else the whole-hour offset nearest the sun's at that longitude, else UTC.
func LocalZone(country string, lon float64, hasLon bool) *time.Location {
	if bands, ok := countryZones[strings.ToUpper(strings.TrimSpace(country))]; ok {
		zone := bands[0].zone
		if hasLon {
			for _, b := range bands[1:] {
				if lon >= b.fromLon {
					zone = b.zone
				}
			}
		}
		return zones[zone]
	}
	if hasLon {
		return solarZones[int(math.Round(lon/15))]
	}
	return time.UTC
}
