package engine

import (
	"slices"
	"testing"
	"time"
)

// TestDefaultRulePack checks each typology rule on the shape of its attack
// (it fires, alone among the pack) and on the benign pattern it must leave
// alone, and that every condition runs natively, not on the VM.
func TestDefaultRulePack(t *testing.T) {
	at := time.Date(2026, 11, 20, 18, 30, 0, 0, time.UTC) // 02:30 in Shanghai
	customer := func() Features {
		return Features{
			Amount: 120, Merchant: "m-1", MerchantCategory: "grocery", MerchantUsers24h: 40, MerchantFirstSeen: at.Add(-20 * 24 * time.Hour),
			User: UserFeatures{TxCount10m: 1, TxCount1h: 1, TxCount30d: 40, Amount1h: 120, AvgAmount30d: 110, MaxAmount30d: 900,
				SmallTxCount10m: 0, MerchantCount10m: 1, PrevTxAt: at.Add(-20 * time.Hour)},
			Device: DeviceFeatures{ID: "own-phone", UserCount: 1, UserCount24h: 1, UserCount7d: 1, Status: "NORMAL",
				FirstSeen: at.Add(-300 * 24 * time.Hour), UserFirstSeen: at.Add(-300 * 24 * time.Hour)},
			Geo: GeoFeatures{Present: true, Latitude: 31.23, Longitude: 121.47, Country: "CN"},
		}
	}
	newDevice := func(f *Features) {
		f.Device.ID, f.Device.FirstSeen, f.Device.UserFirstSeen = "fresh", at, time.Time{}
	}
	tests := []struct {
		name string
		edit func(f *Features)
		want []string
	}{
		{"ordinary payment", func(*Features) {}, nil},
		{"card testing", func(f *Features) {
			f.Amount, f.User.SmallTxCount10m, f.User.MerchantCount10m, f.User.TxCount10m = 2.5, 4, 4, 4
		}, []string{"card testing"}},
		{"shopping spree", func(f *Features) { f.Amount, f.User.MerchantCount10m, f.User.TxCount10m = 45, 7, 7 }, nil},
		{"takeover from abroad", func(f *Features) {
			newDevice(f)
			f.Amount, f.User.Amount1h, f.Geo.Country, f.Geo.Longitude, f.Geo.NewCountry = 800, 800, "NG", 3.4, true
		}, []string{"takeover from abroad"}},
		{"journey abroad on the own phone", func(f *Features) { f.Geo.Country, f.Geo.Longitude, f.Geo.NewCountry = "JP", 139.7, true }, nil},
		{"cash-out", func(f *Features) { newDevice(f); f.Amount, f.User.Amount1h, f.User.MaxAmount30d = 4000, 4000, 900 }, []string{"cash-out from a new device"}},
		{"drain after the first", func(f *Features) {
			newDevice(f)
			f.Device.UserFirstSeen = at.Add(-10 * time.Minute)
			f.Amount, f.User.Amount1h, f.User.MaxAmount30d = 3000, 7500, 4500
		}, []string{"new device drains the account"}},
		{"new phone, ordinary amount", func(f *Features) { newDevice(f) }, nil},
		{"dormant account", func(f *Features) {
			newDevice(f)
			f.Amount, f.User.Amount1h, f.User.TxCount30d, f.User.MaxAmount30d, f.User.PrevTxAt = 2000, 2000, 1, 0, at.Add(-25*24*time.Hour)
		}, []string{"dormant account wakes on a new device"}},
		{"returning customer on the own phone", func(f *Features) {
			f.Amount, f.User.TxCount30d, f.User.PrevTxAt = 2000, 1, at.Add(-25*24*time.Hour)
		}, nil},
		{"night structuring", func(f *Features) { f.Amount, f.MerchantCategory = 9500, "p2p_transfer" }, []string{"night structuring"}},
		{"the same where it is evening", func(f *Features) {
			f.Amount, f.MerchantCategory, f.Geo.Country, f.Geo.Longitude = 9500, "p2p_transfer", "GB", -0.13
		}, nil},
		{"device ring", func(f *Features) { f.Device.UserCount7d = 4 }, []string{"device ring"}},
		{"mule payee", func(f *Features) {
			f.MerchantCategory, f.MerchantFirstSeen, f.MerchantUsers24h = "p2p_transfer", at.Add(-2*time.Hour), 5
		}, []string{"mule payee"}},
		{"a busy old payee", func(f *Features) { f.MerchantCategory = "p2p_transfer" }, nil},
	}
	pack := DefaultRulePack()
	for i := range pack {
		pack[i].ID = int64(i + 1)
		c, err := CompileCondition(pack[i].Condition)
		if err != nil || c.native == nil {
			t.Fatalf("%s: got %v, native %v; want a native condition", pack[i].Name, err, c != nil && c.native != nil)
		}
	}
	rs, err := Compile(pack)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := customer()
			tt.edit(&f)
			f.Derive(at)
			res, err := Score(t.Context(), rs, &f, nil, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range res.Matched {
				got = append(got, m.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matched %v; want %v", got, tt.want)
			}
		})
	}
}

// TestBuiltinLoginRules checks the seed pack's LOGIN rules on login-shaped
// features (no payment): New York 30 seconds after Shanghai is impossible
// travel, an hour's flight nearby is not; a device the user never used
// (no first use) is unknown, one used a second ago is not.
func TestBuiltinLoginRules(t *testing.T) {
	rs, err := Compile(BuiltinLoginRules())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	shanghai := func() Features {
		return Features{
			Device: DeviceFeatures{ID: "phone", Status: "NORMAL", FirstSeen: at.Add(-time.Hour), UserFirstSeen: at.Add(-time.Hour)},
			Geo: GeoFeatures{Present: true, Latitude: 31.2304, Longitude: 121.4737, Country: "CN",
				HasPrevious: true, PrevLatitude: 31.2304, PrevLongitude: 121.4737, PrevAt: at.Add(-30 * time.Second)},
		}
	}
	tests := []struct {
		name string
		edit func(f *Features)
		want []string
	}{
		{"same place, known device", func(*Features) {}, nil},
		{"New York 30 s after Shanghai", func(f *Features) {
			f.Geo.Latitude, f.Geo.Longitude, f.Geo.Country = 40.7128, -74.0060, "US"
		}, []string{"login from a different place within a short time"}},
		{"Beijing 3 hours after Shanghai", func(f *Features) {
			f.Geo.Latitude, f.Geo.Longitude, f.Geo.PrevAt = 39.9042, 116.4074, at.Add(-3*time.Hour)
		}, nil},
		{"no previous location", func(f *Features) { f.Geo.HasPrevious = false }, nil},
		{"device never used", func(f *Features) { f.Device.UserFirstSeen = time.Time{} }, []string{"unknown device at login"}},
		{"device used a second ago", func(f *Features) { f.Device.UserFirstSeen = at.Add(-time.Second) }, nil},
		{"no device", func(f *Features) { f.Device = DeviceFeatures{} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := shanghai()
			tt.edit(&f)
			f.Derive(at)
			var got []string
			for _, m := range rs.Evaluate(&f) {
				got = append(got, m.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v; want %v", got, tt.want)
			}
		})
	}
	for _, r := range BuiltinLoginRules() {
		if r.Scope != ScopeLogin {
			t.Errorf("%s: scope %q, want LOGIN", r.Name, r.Scope)
		}
	}
}
