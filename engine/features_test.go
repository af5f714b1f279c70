package engine

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestDerive(t *testing.T) {
	at := time.Date(2024, 3, 10, 23, 30, 0, 0, time.FixedZone("CST", 8*3600)) // 15:30 UTC, a Sunday
	raw := func() Features {
		return Features{
			Merchant: "m2",
			User: UserFeatures{
				TxCount24h: 4, Amount24h: 1000,
				TopMerchants: []string{"m1", "m2"},
				CreatedAt:    at.Add(-36 * time.Hour),
				Role:         "VIP",
			},
			Device: DeviceFeatures{ID: "fp-1", FirstSeen: at.Add(-48 * time.Hour)},
			Geo: GeoFeatures{
				Present: true, Latitude: 52.52, Longitude: 13.405,
				HasPrevious: true, PrevLatitude: 31.2304, PrevLongitude: 121.4737,
				PrevAt: at.Add(-2 * time.Hour),
			},
		}
	}
	tests := []struct {
		name  string
		edit  func(*Features)
		check func(t *testing.T, f *Features)
	}{
		{"time is UTC", nil, func(t *testing.T, f *Features) {
			if f.Hour != 15 || f.Weekday != 0 {
				t.Errorf("got hour %d weekday %d; want 15 0", f.Hour, f.Weekday)
			}
		}},
		{"user", nil, func(t *testing.T, f *Features) {
			u := f.User
			if u.AvgAmount24h != 250 || !u.KnownMerchant || !u.VIP || u.AccountAgeDays != 1.5 {
				t.Errorf("got avg %v known %v vip %v age %v; want 250 true true 1.5",
					u.AvgAmount24h, u.KnownMerchant, u.VIP, u.AccountAgeDays)
			}
		}},
		{"unknown merchant, no transactions", func(f *Features) {
			f.Merchant, f.User.TxCount24h, f.User.Role = "m9", 0, "USER"
		}, func(t *testing.T, f *Features) {
			if f.User.AvgAmount24h != 0 || f.User.KnownMerchant || f.User.VIP {
				t.Errorf("got avg %v known %v vip %v; want 0 false false",
					f.User.AvgAmount24h, f.User.KnownMerchant, f.User.VIP)
			}
		}},
		{"device", nil, func(t *testing.T, f *Features) {
			if !f.Device.Present || f.Device.AgeDays != 2 {
				t.Errorf("got present %v age %v; want true 2", f.Device.Present, f.Device.AgeDays)
			}
		}},
		{"no device", func(f *Features) { f.Device.ID = "" }, func(t *testing.T, f *Features) {
			if f.Device.Present || f.Device.AgeDays != 0 {
				t.Errorf("got present %v age %v; want false 0", f.Device.Present, f.Device.AgeDays)
			}
		}},
		{"device never seen before", nil, func(t *testing.T, f *Features) {
			if f.Device.LastSeenMinutes != -1 || !f.Device.NewToAll7d {
				t.Errorf("got last seen %v new to all %v; want -1 true", f.Device.LastSeenMinutes, f.Device.NewToAll7d)
			}
		}},
		{"device last seen", func(f *Features) { f.Device.LastSeen = at.Add(-90 * time.Minute) }, func(t *testing.T, f *Features) {
			if f.Device.LastSeenMinutes != 90 || f.Device.NewToAll7d {
				t.Errorf("got last seen %v new to all %v; want 90 false", f.Device.LastSeenMinutes, f.Device.NewToAll7d)
			}
		}},
		{"device last seen seven days ago", func(f *Features) { f.Device.LastSeen = at.Add(-7 * 24 * time.Hour) }, func(t *testing.T, f *Features) {
			if f.Device.LastSeenMinutes != 7*24*60 || !f.Device.NewToAll7d {
				t.Errorf("got last seen %v new to all %v; want 10080 true", f.Device.LastSeenMinutes, f.Device.NewToAll7d)
			}
		}},
		{"no device, seen", func(f *Features) { f.Device.ID, f.Device.LastSeen = "", at.Add(-time.Hour) }, func(t *testing.T, f *Features) {
			if f.Device.LastSeenMinutes != -1 || f.Device.NewToAll7d {
				t.Errorf("got last seen %v new to all %v; want -1 false", f.Device.LastSeenMinutes, f.Device.NewToAll7d)
			}
		}},
		{"travel", nil, func(t *testing.T, f *Features) {
			g := f.Geo
			if !g.HasPrevious || g.ElapsedMinutes != 120 || math.Abs(g.SpeedKmh-g.DistanceKm/2) > 1e-9 || g.DistanceKm < 8000 {
				t.Errorf("got previous %v distance %v elapsed %v speed %v; want true ~8400 120 distance/2",
					g.HasPrevious, g.DistanceKm, g.ElapsedMinutes, g.SpeedKmh)
			}
		}},
		{"no current location", func(f *Features) { f.Geo.Present = false }, func(t *testing.T, f *Features) {
			if f.Geo.HasPrevious || f.Geo.DistanceKm != 0 || f.Geo.SpeedKmh != 0 {
				t.Errorf("got previous %v distance %v speed %v; want false 0 0",
					f.Geo.HasPrevious, f.Geo.DistanceKm, f.Geo.SpeedKmh)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := raw()
			if tt.edit != nil {
				tt.edit(&f)
			}
			f.Derive(at)
			tt.check(t, &f)
		})
	}
}

// exprNames lists the names conditions can read, following expr tags.
func exprNames(typ reflect.Type, prefix string) []string {
	var names []string
	for i := range typ.NumField() {
		field := typ.Field(i)
		tag := field.Tag.Get("expr")
		if tag == "-" {
			continue
		}
		if field.Type.Kind() == reflect.Struct && field.Type != reflect.TypeFor[time.Time]() {
			names = append(names, exprNames(field.Type, prefix+tag+".")...)
			continue
		}
		names = append(names, prefix+tag)
	}
	return names
}

func TestFeatureDocsMatchFeatures(t *testing.T) {
	var documented []string
	for _, d := range FeatureDocs {
		documented = append(documented, d.Name)
		if d.Type == "" || d.Description == "" {
			t.Errorf("feature %s: got empty type or description", d.Name)
		}
		if _, err := CompileCondition(d.Name + " == " + d.Name); err != nil {
			t.Errorf("feature %s: got %v; want it usable in a condition", d.Name, err)
		}
	}
	if got, want := documented, exprNames(reflect.TypeFor[Features](), ""); !slices.Equal(got, want) {
		t.Errorf("FeatureDocs names\ngot  %v\nwant %v", got, want)
	}
}

// flatten turns nested snapshot maps into dotted names.
func flatten(m map[string]any, prefix string, into map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(sub, prefix+k+".", into)
			continue
		}
		into[prefix+k] = v
	}
}

func TestSnapshot(t *testing.T) {
	f := Features{Amount: 12000, Merchant: "m1", User: UserFeatures{TxCount10m: 5}, Device: DeviceFeatures{FirstSeen: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}}
	flat := map[string]any{}
	raw, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var nested map[string]any
	if err := json.Unmarshal(raw, &nested); err != nil {
		t.Fatal(err)
	}
	flatten(nested, "", flat)

	for _, name := range exprNames(reflect.TypeFor[Features](), "") {
		if _, ok := flat[name]; !ok {
			t.Errorf("snapshot lacks %s", name)
		}
	}
	for name, want := range map[string]any{
		"amount": 12000.0, "merchant": "m1", "user.txCount10m": 5.0,
		"device.firstSeen": "2024-01-02T03:04:05Z", "geo.prevAt": nil,
	} {
		if got := flat[name]; got != want {
			t.Errorf("%s: got %v; want %v", name, got, want)
		}
	}

	var back struct {
		User struct {
			TopMerchants []string `json:"topMerchants"`
		} `json:"user"`
	}
	if err := json.Unmarshal(raw, &back); err != nil || back.User.TopMerchants == nil {
		t.Errorf("user.topMerchants: got %v (%v); want [] not null", back.User.TopMerchants, err)
	}
}

func TestParseSnapshotRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 20, 3, 30, 0, 0, time.UTC)
	f := &Features{Amount: 9999.5, Currency: "CNY", Merchant: "m-1", MerchantUsers24h: 4, MerchantFirstSeen: at.Add(-3 * time.Hour),
		User: UserFeatures{TxCount10m: 5, Amount24h: 12000, TopMerchants: []string{"m-1"}, Role: "VIP", CreatedAt: at.Add(-48 * time.Hour),
			TxCount30d: 9, AvgAmount30d: 120, MaxAmount30d: 400, SmallTxCount10m: 2, MerchantCount10m: 3, PrevTxAt: at.Add(-26 * time.Hour)},
		Device: DeviceFeatures{ID: "fp", New: true, UserCount: 3, UserCount24h: 2, UserCount7d: 3, Status: "ABNORMAL",
			FirstSeen: at.Add(-time.Hour), UserFirstSeen: at.Add(-time.Minute)},
		Geo: GeoFeatures{Present: true, Latitude: 52.5, Longitude: 13.4, Country: "DE", NewCountry: true,
			HasPrevious: true, PrevLatitude: 31.2, PrevLongitude: 121.5, PrevAt: at.Add(-30 * time.Minute),
			TravelBooked: true, LoginNearDestination: true},
		IPAddress: "10.0.0.1", IP: IPFeatures{Users10m: 2, Users24h: 3, Devices10m: 1, Devices24h: 4, SubnetUsers10m: 5, SubnetUsers24h: 6, SubnetDevices10m: 7, SubnetDevices24h: 8},
		MerchantStats: MerchantStats{Payers10m: 2, Payers1h: 3, NewDevices10m: 1, NewDevices1h: 2, TinyShare1h: 0.25, PayerMedianAgeDays1h: 3.5},
	}
	f.MerchantCategory = "hotel"
	f.User.NearLineCount7d, f.User.Spend30dBefore7d, f.User.NewMerchants24h, f.User.NewMerchants72h = 2, 3000, 1, 2
	f.User.History90d, f.User.HistoryBelow, f.User.HistoryNearHour = 9, 4, 3
	f.Device.Accounts1h, f.Device.DaysUsed30d = 2, 4
	f.Derive(at)
	raw, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, f)
	}
	if _, err := ParseSnapshot([]byte(`{"amount": "x"}`)); err == nil {
		t.Fatal("a malformed snapshot parsed")
	}
}

// TestDeriveEntityFeatures checks each derived issue 17 feature and its
// sentinels on constructed raw figures.
func TestDeriveEntityFeatures(t *testing.T) {
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	raw := func() Features {
		return Features{
			Amount: 300, Merchant: "m-1", MerchantCategory: "furniture", IPAddress: "10.1.2.3",
			MerchantStats: MerchantStats{Payers1h: 3, PayerMedianAgeDays1h: 12},
			IP:            IPFeatures{Users24h: 2},
			User: UserFeatures{Amount24h: 300, Amount7d: 900, Spend30dBefore7d: 600,
				History90d: 8, HistoryBelow: 6, HistoryNearHour: 2},
			Device: DeviceFeatures{ID: "fp", DaysUsed30d: 3, UserFirstSeen: at.Add(-2 * 24 * time.Hour)},
			// Shanghai to Berlin, 11 hours after the last payment at home.
			Geo: GeoFeatures{Present: true, Latitude: 52.52, Longitude: 13.405, HasPrevious: true,
				PrevLatitude: 31.2304, PrevLongitude: 121.4737, PrevAt: at.Add(-11 * time.Hour), TravelBooked: true},
		}
	}
	tests := []struct {
		name string
		edit func(*Features)
		want func(f *Features) []any // got, want pairs
	}{
		{"spend ratios", nil, func(f *Features) []any {
			// 900 in 7 days against 600 in 30 (20 a day, 140 a week); 300 today against 600 over 6 days (100 a day).
			return []any{f.User.Spend7dToDailyAvg30d, 900.0 / 140, f.User.SpendAcceleration, 3.0}
		}},
		{"no baseline spend", func(f *Features) { f.User.Spend30dBefore7d, f.User.Amount7d = 0, 300 }, func(f *Features) []any {
			return []any{f.User.Spend7dToDailyAvg30d, 0.0, f.User.SpendAcceleration, 0.0}
		}},
		{"personal baselines", nil, func(f *Features) []any {
			return []any{f.User.AmountPercentile, 0.75, f.User.HourTypicality, 0.25, f.User.NewCategory, true}
		}},
		{"category seen", func(f *Features) { f.User.CategorySeen90d = true }, func(f *Features) []any {
			return []any{f.User.NewCategory, false}
		}},
		{"no category", func(f *Features) { f.MerchantCategory = "" }, func(f *Features) []any {
			return []any{f.User.NewCategory, false}
		}},
		{"four previous payments", func(f *Features) { f.User.History90d = 4 }, func(f *Features) []any {
			return []any{f.User.AmountPercentile, -1.0, f.User.HourTypicality, -1.0, f.User.NewCategory, false}
		}},
		{"five previous payments", func(f *Features) { f.User.History90d, f.User.HistoryBelow, f.User.HistoryNearHour = 5, 0, 5 }, func(f *Features) []any {
			return []any{f.User.AmountPercentile, 0.0, f.User.HourTypicality, 1.0, f.User.NewCategory, true}
		}},
		{"usual device, plausible journey", nil, func(f *Features) []any {
			return []any{f.Device.Usual, true, f.Geo.PlausibleJourney, true}
		}},
		{"journey with a login there", func(f *Features) { f.Geo.TravelBooked, f.Geo.LoginNearDestination = false, true }, func(f *Features) []any {
			return []any{f.Geo.PlausibleJourney, true}
		}},
		{"journey without travel or login", func(f *Features) { f.Geo.TravelBooked = false }, func(f *Features) []any {
			return []any{f.Geo.PlausibleJourney, false}
		}},
		{"two days used, device two days old", func(f *Features) { f.Device.DaysUsed30d = 2 }, func(f *Features) []any {
			return []any{f.Device.Usual, false, f.Geo.PlausibleJourney, false}
		}},
		{"two days used, device 14 days old", func(f *Features) {
			f.Device.DaysUsed30d, f.Device.UserFirstSeen = 2, at.Add(-14*24*time.Hour)
		}, func(f *Features) []any {
			return []any{f.Device.Usual, true, f.Geo.PlausibleJourney, true}
		}},
		{"no device", func(f *Features) { f.Device.ID = "" }, func(f *Features) []any {
			return []any{f.Device.Usual, false, f.Geo.PlausibleJourney, false}
		}},
		{"a move under 100 km is no journey", func(f *Features) {
			f.Geo.Latitude, f.Geo.Longitude = f.Geo.PrevLatitude+99/111.195, f.Geo.PrevLongitude
		}, func(f *Features) []any {
			return []any{f.Geo.DistanceKm > 98 && f.Geo.DistanceKm < 100, true, f.Geo.PlausibleJourney, false}
		}},
		{"no merchant, no address", func(f *Features) { f.Merchant, f.IPAddress = "", "" }, func(f *Features) []any {
			return []any{f.MerchantStats, MerchantStats{PayerMedianAgeDays1h: -1}, f.IP, IPFeatures{}}
		}},
		{"merchant and address kept", nil, func(f *Features) []any {
			return []any{f.MerchantStats.Payers1h, 3, f.MerchantStats.PayerMedianAgeDays1h, 12.0, f.IP.Users24h, 2}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := raw()
			if tt.edit != nil {
				tt.edit(&f)
			}
			f.Derive(at)
			pairs := tt.want(&f)
			for i := 0; i < len(pairs); i += 2 {
				got, want := pairs[i], pairs[i+1]
				if gf, ok := got.(float64); ok {
					if wf := want.(float64); math.Abs(gf-wf) > 1e-12 {
						t.Errorf("value %d: got %v; want %v", i/2, got, want)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("value %d: got %+v; want %+v", i/2, got, want)
				}
			}
		})
	}
}
