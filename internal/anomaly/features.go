package anomaly

import (
	"math"

	"github.com/smartfinance/riskgraph/engine"
)

// Feature is one input of the forests, computed from the engine's feature
// vector.
type Feature struct {
	Name        string
	Description string
	value       func(f *engine.Features) float64
}

// maxSpeedKmh caps travel speed: beyond an airliner's every figure is
// equally impossible, and GPS jitter over seconds yields absurd ones.
const maxSpeedKmh = 5000

// Features is what a newly trained model reads, in column order: the
// numeric features (amounts, ratios, counts, ages, speed, hour), which is
// what isolation by random splits suits. Heavy-tailed ones enter as log1p, so
// a split's uniform draw between min and max does not spend nearly all its
// range on the few largest values. Booleans and categories are left to the
// segments, rules and the supervised model.
//
// To extend it, append a line: a stored model names its features, so older
// models keep scoring with theirs; removing or renaming one makes models
// that use it fail to load (and activation refuses them).
var Features = []Feature{
	{"log1p(amount)", "log(1 + amount)", func(f *engine.Features) float64 { return log1p(f.Amount) }},
	{"log1p(user.amountToAvg30d)", "log(1 + amount relative to the user's 30-day average)", func(f *engine.Features) float64 { return log1p(f.User.AmountToAvg30d) }},
	{"log1p(user.amountToMax30d)", "log(1 + amount relative to the user's 30-day maximum)", func(f *engine.Features) float64 { return log1p(f.User.AmountToMax30d) }},
	{"log1p(user.txCount10m)", "log(1 + user's transactions in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount10m)) }},
	{"log1p(user.txCount1h)", "log(1 + user's transactions in 1 hour)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount1h)) }},
	{"log1p(user.txCount24h)", "log(1 + user's transactions in 24 hours)", func(f *engine.Features) float64 { return log1p(float64(f.User.TxCount24h)) }},
	{"log1p(user.amount24h)", "log(1 + user's amount in 24 hours)", func(f *engine.Features) float64 { return log1p(f.User.Amount24h) }},
	{"log1p(user.smallTxCount10m)", "log(1 + small payments in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.SmallTxCount10m)) }},
	{"log1p(user.merchantCount10m)", "log(1 + distinct merchants in 10 minutes)", func(f *engine.Features) float64 { return log1p(float64(f.User.MerchantCount10m)) }},
	{"log1p(user.accountAgeDays)", "log(1 + account age in days)", func(f *engine.Features) float64 { return log1p(f.User.AccountAgeDays) }},
	{"log1p(user.daysSincePrevious)", "log(1 + days since the previous transaction; 0 for a first one)", func(f *engine.Features) float64 { return log1p(f.User.DaysSincePrevious) }},
	{"log1p(device.userCount)", "log(1 + users seen on the device)", func(f *engine.Features) float64 { return log1p(float64(f.Device.UserCount)) }},
	{"log1p(device.userCount7d)", "log(1 + users transacting on the device in 7 days)", func(f *engine.Features) float64 { return log1p(float64(f.Device.UserCount7d)) }},
	{"log1p(device.ageDays)", "log(1 + days since the device was first seen)", func(f *engine.Features) float64 { return log1p(f.Device.AgeDays) }},
	{"log1p(device.userAgeDays)", "log(1 + days since this user first used the device)", func(f *engine.Features) float64 { return log1p(f.Device.UserAgeDays) }},
	{"log1p(geo.speedKmh)", "log(1 + travel speed since the previous location, capped at 5000 km/h)", func(f *engine.Features) float64 {
		return log1p(math.Min(f.Geo.SpeedKmh, maxSpeedKmh))
	}},
	{"log1p(geo.distanceKm)", "log(1 + distance from the previous location in km)", func(f *engine.Features) float64 { return log1p(f.Geo.DistanceKm) }},
	{"sin(localHour)", "local hour on the circle: sin(2π·localHour/24), so 23:00 is next to 00:00", func(f *engine.Features) float64 {
		return math.Sin(2 * math.Pi * float64(f.LocalHour) / 24)
	}},
	{"cos(localHour)", "local hour on the circle: cos(2π·localHour/24)", func(f *engine.Features) float64 {
		return math.Cos(2 * math.Pi * float64(f.LocalHour) / 24)
	}},
	{"log1p(merchantUsers24h)", "log(1 + distinct payers of the merchant in 24 hours)", func(f *engine.Features) float64 { return log1p(float64(f.MerchantUsers24h)) }},
	{"log1p(merchantAgeDays)", "log(1 + days since the merchant's first payment)", func(f *engine.Features) float64 { return log1p(f.MerchantAgeDays) }},
}

// featureByName indexes Features for loading stored models.
var featureByName = func() map[string]*Feature {
	m := make(map[string]*Feature, len(Features))
	for i := range Features {
		m[Features[i].Name] = &Features[i]
	}
	return m
}()

// log1p clamps at 0 first (daysSincePrevious is -1 for a first payment, and a
// malformed snapshot must not make a NaN).
func log1p(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return math.Log1p(math.Min(x, math.MaxFloat64)) // +Inf too
}
