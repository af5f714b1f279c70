package fraudmodel

import (
	"math"

	"github.com/smartfinance/riskgraph/engine"
)

// Feature is one input of the model, computed from the engine's feature
// vector. Amounts, counts and durations are heavy-tailed, so they enter as
// log1p: a burst of 500 transactions must not outweigh everything else by
// sheer magnitude. Booleans are 0 or 1.
type Feature struct {
	Name        string
	Description string
	value       func(f *engine.Features) float64
}

// maxSpeedKmh caps travel speed: beyond an airliner's speed every figure is
// equally impossible, and GPS jitter over seconds yields absurd ones.
const maxSpeedKmh = 5000

// Features is the vector Train fits, in this order. A stored model names its
// features, so appending one here leaves older models scoring as trained;
// renaming or removing one makes models that use it fail to load.
var Features = []Feature{
	{"log1p(amount)", "log(1 + amount)", func(f *engine.Features) float64 { return log1p(f.Amount) }},
	{"sin(hour)", "hour of day (UTC) on the circle: sin(2π·hour/24), so 23:00 is next to 00:00", func(f *engine.Features) float64 {
		return math.Sin(2 * math.Pi * float64(f.Hour) / 24)
	}},
	{"cos(hour)", "hour of day (UTC) on the circle: cos(2π·hour/24)", func(f *engine.Features) float64 {
		return math.Cos(2 * math.Pi * float64(f.Hour) / 24)
	}},
	{"log1p(user.txCount10m)", "log(1 + user's transactions in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount10m)) }},
	{"log1p(user.txCount1h)", "log(1 + user's transactions in 1 hour)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount1h)) }},
	{"log1p(user.txCount24h)", "log(1 + user's transactions in 24 hours)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount24h)) }},
	{"log1p(user.amount24h)", "log(1 + user's amount in 24 hours)", func(f *engine.Features) float64 { return log1p(f.User.Amount24h) }},
	{"amount/(user.avgAmount24h+1)", "amount relative to the user's 24-hour average", func(f *engine.Features) float64 {
		return f.Amount / (math.Max(f.User.AvgAmount24h, 0) + 1)
	}},
	{"user.knownMerchant", "1 when the merchant is among the user's top merchants", func(f *engine.Features) float64 { return boolean(f.User.KnownMerchant) }},
	{"log1p(user.accountAgeDays)", "log(1 + account age in days)", func(f *engine.Features) float64 { return log1p(f.User.AccountAgeDays) }},
	{"user.vip", "1 for a VIP customer", func(f *engine.Features) float64 { return boolean(f.User.VIP) }},
	{"device.present", "1 when a device fingerprint was supplied", func(f *engine.Features) float64 { return boolean(f.Device.Present) }},
	{"device.new", "1 when the device is new for the user in 7 days", func(f *engine.Features) float64 { return boolean(f.Device.New) }},
	{"log1p(device.userCount)", "log(1 + users seen on the device)", func(f *engine.Features) float64 { return log1p(float64(f.Device.UserCount)) }},
	{"log1p(device.ageDays)", "log(1 + days since the device was first seen)", func(f *engine.Features) float64 { return log1p(f.Device.AgeDays) }},
	{"device.abnormal", "1 when the device is marked ABNORMAL", func(f *engine.Features) float64 { return boolean(f.Device.Status == "ABNORMAL") }},
	{"device.blacklisted", "1 when the device is BLACKLISTED", func(f *engine.Features) float64 { return boolean(f.Device.Status == "BLACKLISTED") }},
	{"log1p(geo.speedKmh)", "log(1 + travel speed since the previous location, capped at 5000 km/h)", func(f *engine.Features) float64 {
		return log1p(math.Min(f.Geo.SpeedKmh, maxSpeedKmh))
	}},
	{"log1p(geo.distanceKm)", "log(1 + distance from the previous location in km)", func(f *engine.Features) float64 { return log1p(f.Geo.DistanceKm) }},
	{"sin(localHour)", "local hour of day on the circle: sin(2π·localHour/24)", func(f *engine.Features) float64 {
		return math.Sin(2 * math.Pi * float64(f.LocalHour) / 24)
	}},
	{"cos(localHour)", "local hour of day on the circle: cos(2π·localHour/24)", func(f *engine.Features) float64 {
		return math.Cos(2 * math.Pi * float64(f.LocalHour) / 24)
	}},
	{"log1p(user.amountToAvg30d)", "log(1 + amount relative to the user's 30-day average)", func(f *engine.Features) float64 { return log1p(f.User.AmountToAvg30d) }},
	{"log1p(user.amountToMax30d)", "log(1 + amount relative to the user's 30-day maximum)", func(f *engine.Features) float64 { return log1p(f.User.AmountToMax30d) }},
	{"user.noHistory30d", "1 when the user has no previous transaction in 30 days", func(f *engine.Features) float64 { return boolean(f.User.TxCount30d <= 1) }},
	{"log1p(user.smallTxCount10m)", "log(1 + small payments in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.SmallTxCount10m)) }},
	{"log1p(user.merchantCount10m)", "log(1 + distinct merchants in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.MerchantCount10m)) }},
	{"log1p(user.daysSincePrevious)", "log(1 + days since the previous transaction; 0 for a first one)", func(f *engine.Features) float64 { return log1p(f.User.DaysSincePrevious) }},
	{"log1p(device.userAgeDays)", "log(1 + days since this user first used the device)", func(f *engine.Features) float64 { return log1p(f.Device.UserAgeDays) }},
	{"log1p(device.userCount7d)", "log(1 + users transacting on the device in 7 days)", func(f *engine.Features) float64 { return log1p(float64(f.Device.UserCount7d)) }},
	{"geo.newCountry", "1 when the country is new for the user in 30 days", func(f *engine.Features) float64 { return boolean(f.Geo.NewCountry) }},
	{"log1p(merchantUsers24h)", "log(1 + distinct payers of the merchant in 24 hours)", func(f *engine.Features) float64 { return log1p(float64(f.MerchantUsers24h)) }},
	{"log1p(merchantAgeDays)", "log(1 + days since the merchant's first payment)", func(f *engine.Features) float64 { return log1p(f.MerchantAgeDays) }},
	{"merchant.transfer", "1 for a person-to-person transfer (merchantCategory p2p_transfer)", func(f *engine.Features) float64 { return boolean(f.MerchantCategory == "p2p_transfer") }},
	// Set only while an anomaly model is active: a model trained on snapshots
	// from before the activation learns nothing from it (constant 0).
	{"anomalyScore", "the active anomaly model's isolation-forest score (0..1; 0 when none is active)", func(f *engine.Features) float64 { return f.AnomalyScore }},
}

// featureByName indexes Features for loading stored models.
var featureByName = func() map[string]*Feature {
	m := make(map[string]*Feature, len(Features))
	for i := range Features {
		m[Features[i].Name] = &Features[i]
	}
	return m
}()

// log1p clamps at 0 first: a feature that is never negative must not become
// NaN through a malformed snapshot.
func log1p(x float64) float64 { return math.Log1p(math.Max(x, 0)) }

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
