// Package engine scores a transaction: it holds the feature vector, compiles
// and evaluates rule conditions, fuses the rule score with an optional model
// score and decides. It is pure computation: no I/O, and the clock is always
// passed in.
package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Features is the documented feature vector of one transaction. The store
// fills the raw fields, Derive computes the rest, and rule conditions read it
// under the lowerCamel names of the expr tags (listed in FeatureDocs).
// Derived here: Hour, Weekday, LocalHour, TimeZone and MerchantAgeDays.
type Features struct {
	// Amount is a float only for rule comparison; money stays exact elsewhere.
	Amount           float64 `expr:"amount" json:"amount"`
	Currency         string  `expr:"currency" json:"currency"`
	Merchant         string  `expr:"merchant" json:"merchant"`
	MerchantCategory string  `expr:"merchantCategory" json:"merchantCategory"`
	Channel          string  `expr:"channel" json:"channel"`
	Hour             int     `expr:"hour" json:"hour"`
	Weekday          int     `expr:"weekday" json:"weekday"`
	// LocalHour is the hour at the place of the transaction (or, without
	// one, the user's previous location), in the zone TimeZone names.
	LocalHour int    `expr:"localHour" json:"localHour"`
	TimeZone  string `expr:"timeZone" json:"timeZone"`
	// MerchantUsers24h counts the distinct users who paid this merchant in
	// the trailing 24 hours, this one included: many new payers of one payee
	// is a mule account collecting from scam victims.
	MerchantUsers24h  int            `expr:"merchantUsers24h" json:"merchantUsers24h"`
	MerchantFirstSeen time.Time      `expr:"-" json:"merchantFirstSeen"`
	MerchantAgeDays   float64        `expr:"merchantAgeDays" json:"merchantAgeDays"`
	User              UserFeatures   `expr:"user" json:"user"`
	Device            DeviceFeatures `expr:"device" json:"device"`
	Geo               GeoFeatures    `expr:"geo" json:"geo"`
}

// UserFeatures describes the paying user. Windowed counts and sums include
// the transaction being scored, so "5 in 10 minutes" counts this one too.
// The 30-day baseline (AvgAmount30d, MaxAmount30d) is the user's previous
// transactions only, so this one is measured against it.
// Derived: AvgAmount24h, AmountToAvg30d, AmountToMax30d, KnownMerchant,
// AccountAgeDays, DaysSincePrevious and VIP.
type UserFeatures struct {
	TxCount10m     int     `expr:"txCount10m" json:"txCount10m"`
	TxCount1h      int     `expr:"txCount1h" json:"txCount1h"`
	TxCount24h     int     `expr:"txCount24h" json:"txCount24h"`
	TxCount7d      int     `expr:"txCount7d" json:"txCount7d"`
	Amount10m      float64 `expr:"amount10m" json:"amount10m"`
	Amount1h       float64 `expr:"amount1h" json:"amount1h"`
	Amount24h      float64 `expr:"amount24h" json:"amount24h"`
	Amount7d       float64 `expr:"amount7d" json:"amount7d"`
	AvgAmount24h   float64 `expr:"avgAmount24h" json:"avgAmount24h"`
	TxCount30d     int     `expr:"txCount30d" json:"txCount30d"`
	AvgAmount30d   float64 `expr:"avgAmount30d" json:"avgAmount30d"`
	MaxAmount30d   float64 `expr:"maxAmount30d" json:"maxAmount30d"`
	AmountToAvg30d float64 `expr:"amountToAvg30d" json:"amountToAvg30d"`
	AmountToMax30d float64 `expr:"amountToMax30d" json:"amountToMax30d"`
	// SmallTxCount10m counts amounts under the configured small amount
	// (SMALL_AMOUNT): card testers probe a stolen card with tiny payments.
	SmallTxCount10m   int       `expr:"smallTxCount10m" json:"smallTxCount10m"`
	MerchantCount10m  int       `expr:"merchantCount10m" json:"merchantCount10m"`
	PrevTxAt          time.Time `expr:"-" json:"prevTxAt"`
	DaysSincePrevious float64   `expr:"daysSincePrevious" json:"daysSincePrevious"`
	TopMerchants      []string  `expr:"topMerchants" json:"topMerchants"`
	KnownMerchant     bool      `expr:"knownMerchant" json:"knownMerchant"`
	CreatedAt         time.Time `expr:"-" json:"createdAt"`
	AccountAgeDays    float64   `expr:"accountAgeDays" json:"accountAgeDays"`
	Role              string    `expr:"role" json:"role"`
	VIP               bool      `expr:"vip" json:"vip"`
}

// DeviceFeatures describes the device the transaction came from. New means
// not seen for this user in the 7 days before this transaction, so the store
// must look before recording it; UserFirstSeen is when this user first used
// it, zero the first time. Derived: Present, AgeDays and UserAgeDays.
type DeviceFeatures struct {
	ID        string `expr:"id" json:"id"`
	Present   bool   `expr:"present" json:"present"`
	New       bool   `expr:"new" json:"new"`
	UserCount int    `expr:"userCount" json:"userCount"`
	// UserCount24h and UserCount7d count the distinct users who transacted
	// on the device in the window, this one included: a device ring's
	// synthetic accounts share one phone. Others count only if they came to
	// the device no later than a day after this user did, so throwaway
	// accounts borrowing an established customer's fingerprint flag
	// themselves, not the customer (the store computes it; see README).
	UserCount24h int    `expr:"userCount24h" json:"userCount24h"`
	UserCount7d  int    `expr:"userCount7d" json:"userCount7d"`
	Status       string `expr:"status" json:"status"`
	// FirstSeen is hidden from rules, which use AgeDays: a time would invite
	// comparisons against the wall clock.
	FirstSeen     time.Time `expr:"-" json:"firstSeen"`
	AgeDays       float64   `expr:"ageDays" json:"ageDays"`
	UserFirstSeen time.Time `expr:"-" json:"userFirstSeen"`
	UserAgeDays   float64   `expr:"userAgeDays" json:"userAgeDays"`
}

// GeoFeatures describes where the transaction happened and how far and fast
// the user travelled since their previous known location (login or
// transaction), which the store gives as HasPrevious and the Prev* fields.
// Derived: DistanceKm, ElapsedMinutes and SpeedKmh.
type GeoFeatures struct {
	Present   bool    `expr:"present" json:"present"`
	Latitude  float64 `expr:"latitude" json:"latitude"`
	Longitude float64 `expr:"longitude" json:"longitude"`
	Country   string  `expr:"country" json:"country"`
	City      string  `expr:"city" json:"city"`
	// NewCountry: the user paid from places in the previous 30 days, none in this country.
	NewCountry     bool      `expr:"newCountry" json:"newCountry"`
	HasPrevious    bool      `expr:"hasPrevious" json:"hasPrevious"`
	PrevLatitude   float64   `expr:"prevLatitude" json:"prevLatitude"`
	PrevLongitude  float64   `expr:"prevLongitude" json:"prevLongitude"`
	PrevCountry    string    `expr:"prevCountry" json:"prevCountry"`
	PrevAt         time.Time `expr:"-" json:"prevAt"`
	DistanceKm     float64   `expr:"distanceKm" json:"distanceKm"`
	ElapsedMinutes float64   `expr:"elapsedMinutes" json:"elapsedMinutes"`
	SpeedKmh       float64   `expr:"speedKmh" json:"speedKmh"`
}

// FeatureDoc documents one feature as rule conditions name it.
type FeatureDoc struct {
	Name        string
	Type        string
	Description string
}

// FeatureDocs lists every feature a condition can read, in struct order.
var FeatureDocs = []FeatureDoc{
	{"amount", "float", "transaction amount in its currency"},
	{"currency", "string", "ISO 4217 currency code"},
	{"merchant", "string", "merchant ID"},
	{"merchantCategory", "string", "merchant category"},
	{"channel", "string", "payment channel"},
	{"hour", "int", "hour of day of occurredAt, UTC (0-23)"},
	{"weekday", "int", "day of week of occurredAt, UTC (0 = Sunday … 6 = Saturday)"},
	{"localHour", "int", "hour of day of occurredAt in timeZone (0-23)"},
	{"timeZone", "string", "time zone of the transaction's place: its country's (by longitude where a country has several), else the nearest whole-hour offset to its longitude; without a location, the user's previous location's; else UTC"},
	{"merchantUsers24h", "int", "distinct users who paid this merchant in the trailing 24 hours, this one included (counted over the merchant's latest 200 payments); 0 without a merchant"},
	{"merchantAgeDays", "float", "days since anyone first paid this merchant; 0 for a first payment or without a merchant"},
	{"user.txCount10m", "int", "user's transactions in the trailing 10 minutes, this one included"},
	{"user.txCount1h", "int", "user's transactions in the trailing hour, this one included"},
	{"user.txCount24h", "int", "user's transactions in the trailing 24 hours, this one included"},
	{"user.txCount7d", "int", "user's transactions in the trailing 7 days, this one included"},
	{"user.amount10m", "float", "user's amount in the trailing 10 minutes, this one included"},
	{"user.amount1h", "float", "user's amount in the trailing hour, this one included"},
	{"user.amount24h", "float", "user's amount in the trailing 24 hours, this one included"},
	{"user.amount7d", "float", "user's amount in the trailing 7 days, this one included"},
	{"user.avgAmount24h", "float", "user's average amount over the trailing 24 hours (amount24h / txCount24h)"},
	{"user.txCount30d", "int", "user's transactions in the trailing 30 days, this one included"},
	{"user.avgAmount30d", "float", "average amount of the user's previous transactions in the trailing 30 days (this one excluded); 0 without any"},
	{"user.maxAmount30d", "float", "largest amount of the user's previous transactions in the trailing 30 days (this one excluded); 0 without any"},
	{"user.amountToAvg30d", "float", "amount / avgAmount30d; 0 without previous transactions in 30 days"},
	{"user.amountToMax30d", "float", "amount / maxAmount30d; 0 without previous transactions in 30 days"},
	{"user.smallTxCount10m", "int", "user's transactions under SMALL_AMOUNT (default 10) in the trailing 10 minutes, this one included"},
	{"user.merchantCount10m", "int", "distinct merchants the user paid in the trailing 10 minutes, this one included"},
	{"user.daysSincePrevious", "float", "days since the user's previous transaction, however long ago; -1 for a first transaction"},
	{"user.topMerchants", "[]string", "user's most frequent merchants over 7 days, at most 5"},
	{"user.knownMerchant", "bool", "merchant is among user.topMerchants"},
	{"user.accountAgeDays", "float", "days between account creation and occurredAt"},
	{"user.role", "string", "user role: USER, VIP, ANALYST, ADMIN, SERVICE"},
	{"user.vip", "bool", "user role is VIP"},
	{"device.id", "string", "client device fingerprint; empty when none was supplied"},
	{"device.present", "bool", "a device fingerprint was supplied"},
	{"device.new", "bool", "device not seen for this user in the 7 days before this transaction"},
	{"device.userCount", "int", "distinct users seen on this device, this one included, counting others only if they came to it no later than a day after this user did (see \"Device users\" below)"},
	{"device.userCount24h", "int", "distinct users who transacted on this device in the trailing 24 hours, this one included, counting others only if they came to the device no later than a day after this user did (over the device's latest 200 transactions)"},
	{"device.userCount7d", "int", "as userCount24h, over the trailing 7 days"},
	{"device.status", "string", "device status: NORMAL, ABNORMAL, BLACKLISTED"},
	{"device.ageDays", "float", "days between the device's first sighting and occurredAt"},
	{"device.userAgeDays", "float", "days since this user first used this device (transaction or login); 0 the first time"},
	{"geo.present", "bool", "a location was supplied"},
	{"geo.latitude", "float", "latitude of this transaction"},
	{"geo.longitude", "float", "longitude of this transaction"},
	{"geo.country", "string", "country of this transaction"},
	{"geo.city", "string", "city of this transaction"},
	{"geo.newCountry", "bool", "a country is given, the user has located transactions in the previous 30 days, and none in this country"},
	{"geo.hasPrevious", "bool", "a location and the user's previous location (login or transaction) are both known"},
	{"geo.prevLatitude", "float", "latitude of the previous location"},
	{"geo.prevLongitude", "float", "longitude of the previous location"},
	{"geo.prevCountry", "string", "country of the previous location"},
	{"geo.distanceKm", "float", "great-circle distance from the previous location, km"},
	{"geo.elapsedMinutes", "float", "minutes since the previous location"},
	{"geo.speedKmh", "float", "distanceKm over the elapsed time, km/h (see TravelSpeed)"},
}

// Derive computes the derived features from the raw ones the store filled:
// hour, weekday, localHour, timeZone, merchantAgeDays, user.avgAmount24h,
// the user's amount ratios, user.knownMerchant, user.vip,
// user.accountAgeDays, user.daysSincePrevious, device.present, the device
// ages and the geo travel figures. occurredAt is the transaction's time, the
// engine's only clock.
func (f *Features) Derive(occurredAt time.Time) {
	at := occurredAt.UTC()
	f.Hour = at.Hour()
	f.Weekday = int(at.Weekday())
	zone := time.UTC
	switch g := &f.Geo; {
	case g.Present:
		zone = LocalZone(g.Country, g.Longitude, true)
	case !g.PrevAt.IsZero():
		zone = LocalZone(g.PrevCountry, g.PrevLongitude, true)
	}
	f.LocalHour, f.TimeZone = at.In(zone).Hour(), zone.String()
	f.MerchantAgeDays = 0
	if f.Merchant != "" {
		f.MerchantAgeDays = daysSince(f.MerchantFirstSeen, at)
	}

	u := &f.User
	u.AvgAmount24h = 0
	if u.TxCount24h > 0 {
		u.AvgAmount24h = u.Amount24h / float64(u.TxCount24h)
	}
	u.AmountToAvg30d, u.AmountToMax30d = ratio(f.Amount, u.AvgAmount30d), ratio(f.Amount, u.MaxAmount30d)
	u.KnownMerchant = f.Merchant != "" && slices.Contains(u.TopMerchants, f.Merchant)
	u.VIP = u.Role == "VIP"
	u.AccountAgeDays = daysSince(u.CreatedAt, at)
	u.DaysSincePrevious = -1
	if !u.PrevTxAt.IsZero() {
		u.DaysSincePrevious = daysSince(u.PrevTxAt, at)
	}

	d := &f.Device
	d.Present = d.ID != ""
	d.AgeDays, d.UserAgeDays = 0, 0
	if d.Present {
		d.AgeDays = daysSince(d.FirstSeen, at)
		d.UserAgeDays = daysSince(d.UserFirstSeen, at)
	}

	g := &f.Geo
	g.HasPrevious = g.HasPrevious && g.Present
	g.DistanceKm, g.ElapsedMinutes, g.SpeedKmh = 0, 0, 0
	if g.HasPrevious {
		elapsed := at.Sub(g.PrevAt)
		g.DistanceKm = Haversine(g.PrevLatitude, g.PrevLongitude, g.Latitude, g.Longitude)
		g.ElapsedMinutes = elapsed.Minutes()
		g.SpeedKmh = TravelSpeed(g.DistanceKm, elapsed)
	}
}

// ratio is 0 without a baseline: a first payment is not infinitely unusual.
func ratio(x, base float64) float64 {
	if base <= 0 {
		return 0
	}
	return x / base
}

// daysSince is 0 for an unknown (zero) start, never negative.
func daysSince(start, at time.Time) float64 {
	if start.IsZero() || !at.After(start) {
		return 0
	}
	return at.Sub(start).Hours() / 24
}

// Snapshot returns the feature vector as JSON-friendly nested maps under the
// same names conditions use, plus the times hidden from conditions (RFC 3339,
// nil when unknown). It is stored with the detection.
func (f *Features) Snapshot() map[string]any {
	u, d, g := &f.User, &f.Device, &f.Geo
	top := u.TopMerchants
	if top == nil {
		top = []string{} // [] rather than null in JSON
	}
	return map[string]any{
		"amount":            f.Amount,
		"currency":          f.Currency,
		"merchant":          f.Merchant,
		"merchantCategory":  f.MerchantCategory,
		"channel":           f.Channel,
		"hour":              f.Hour,
		"weekday":           f.Weekday,
		"localHour":         f.LocalHour,
		"timeZone":          f.TimeZone,
		"merchantUsers24h":  f.MerchantUsers24h,
		"merchantFirstSeen": timeOrNil(f.MerchantFirstSeen),
		"merchantAgeDays":   f.MerchantAgeDays,
		"user": map[string]any{
			"txCount10m":        u.TxCount10m,
			"txCount1h":         u.TxCount1h,
			"txCount24h":        u.TxCount24h,
			"txCount7d":         u.TxCount7d,
			"amount10m":         u.Amount10m,
			"amount1h":          u.Amount1h,
			"amount24h":         u.Amount24h,
			"amount7d":          u.Amount7d,
			"avgAmount24h":      u.AvgAmount24h,
			"txCount30d":        u.TxCount30d,
			"avgAmount30d":      u.AvgAmount30d,
			"maxAmount30d":      u.MaxAmount30d,
			"amountToAvg30d":    u.AmountToAvg30d,
			"amountToMax30d":    u.AmountToMax30d,
			"smallTxCount10m":   u.SmallTxCount10m,
			"merchantCount10m":  u.MerchantCount10m,
			"prevTxAt":          timeOrNil(u.PrevTxAt),
			"daysSincePrevious": u.DaysSincePrevious,
			"topMerchants":      slices.Clone(top),
			"knownMerchant":     u.KnownMerchant,
			"createdAt":         timeOrNil(u.CreatedAt),
			"accountAgeDays":    u.AccountAgeDays,
			"role":              u.Role,
			"vip":               u.VIP,
		},
		"device": map[string]any{
			"id":            d.ID,
			"present":       d.Present,
			"new":           d.New,
			"userCount":     d.UserCount,
			"userCount24h":  d.UserCount24h,
			"userCount7d":   d.UserCount7d,
			"userFirstSeen": timeOrNil(d.UserFirstSeen),
			"userAgeDays":   d.UserAgeDays,
			"status":        d.Status,
			"firstSeen":     timeOrNil(d.FirstSeen),
			"ageDays":       d.AgeDays,
		},
		"geo": map[string]any{
			"present":        g.Present,
			"latitude":       g.Latitude,
			"longitude":      g.Longitude,
			"country":        g.Country,
			"city":           g.City,
			"newCountry":     g.NewCountry,
			"hasPrevious":    g.HasPrevious,
			"prevLatitude":   g.PrevLatitude,
			"prevLongitude":  g.PrevLongitude,
			"prevCountry":    g.PrevCountry,
			"prevAt":         timeOrNil(g.PrevAt),
			"distanceKm":     g.DistanceKm,
			"elapsedMinutes": g.ElapsedMinutes,
			"speedKmh":       g.SpeedKmh,
		},
	}
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ParseSnapshot rebuilds the feature vector a detection stored, so rules can be
// replayed over history (backtesting) exactly as they would have run.
func ParseSnapshot(raw []byte) (*Features, error) {
	f := new(Features)
	if err := json.Unmarshal(raw, f); err != nil {
		return nil, fmt.Errorf("engine: feature snapshot: %w", err)
	}
	return f, nil
}
