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
// Derived here: Hour and Weekday.
type Features struct {
	// Amount is a float only for rule comparison; money stays exact elsewhere.
	Amount           float64        `expr:"amount" json:"amount"`
	Currency         string         `expr:"currency" json:"currency"`
	Merchant         string         `expr:"merchant" json:"merchant"`
	MerchantCategory string         `expr:"merchantCategory" json:"merchantCategory"`
	Channel          string         `expr:"channel" json:"channel"`
	Hour             int            `expr:"hour" json:"hour"`
	Weekday          int            `expr:"weekday" json:"weekday"`
	User             UserFeatures   `expr:"user" json:"user"`
	Device           DeviceFeatures `expr:"device" json:"device"`
	Geo              GeoFeatures    `expr:"geo" json:"geo"`
}

// UserFeatures describes the paying user. Windowed counts and sums include
// the transaction being scored, so "5 in 10 minutes" counts this one too.
// Derived: AvgAmount24h, KnownMerchant, AccountAgeDays and VIP.
type UserFeatures struct {
	TxCount10m     int       `expr:"txCount10m" json:"txCount10m"`
	TxCount1h      int       `expr:"txCount1h" json:"txCount1h"`
	TxCount24h     int       `expr:"txCount24h" json:"txCount24h"`
	TxCount7d      int       `expr:"txCount7d" json:"txCount7d"`
	Amount10m      float64   `expr:"amount10m" json:"amount10m"`
	Amount1h       float64   `expr:"amount1h" json:"amount1h"`
	Amount24h      float64   `expr:"amount24h" json:"amount24h"`
	Amount7d       float64   `expr:"amount7d" json:"amount7d"`
	AvgAmount24h   float64   `expr:"avgAmount24h" json:"avgAmount24h"`
	TopMerchants   []string  `expr:"topMerchants" json:"topMerchants"`
	KnownMerchant  bool      `expr:"knownMerchant" json:"knownMerchant"`
	CreatedAt      time.Time `expr:"-" json:"createdAt"`
	AccountAgeDays float64   `expr:"accountAgeDays" json:"accountAgeDays"`
	Role           string    `expr:"role" json:"role"`
	VIP            bool      `expr:"vip" json:"vip"`
}

// DeviceFeatures describes the device the transaction came from. New means
// not seen for this user in the 7 days before this transaction, so the store
// must look before recording it. Derived: Present and AgeDays.
type DeviceFeatures struct {
	ID        string `expr:"id" json:"id"`
	Present   bool   `expr:"present" json:"present"`
	New       bool   `expr:"new" json:"new"`
	UserCount int    `expr:"userCount" json:"userCount"`
	Status    string `expr:"status" json:"status"`
	// FirstSeen is hidden from rules, which use AgeDays: a time would invite
	// comparisons against the wall clock.
	FirstSeen time.Time `expr:"-" json:"firstSeen"`
	AgeDays   float64   `expr:"ageDays" json:"ageDays"`
}

// GeoFeatures describes where the transaction happened and how far and fast
// the user travelled since their previous known location (login or
// transaction), which the store gives as HasPrevious and the Prev* fields.
// Derived: DistanceKm, ElapsedMinutes and SpeedKmh.
type GeoFeatures struct {
	Present        bool      `expr:"present" json:"present"`
	Latitude       float64   `expr:"latitude" json:"latitude"`
	Longitude      float64   `expr:"longitude" json:"longitude"`
	Country        string    `expr:"country" json:"country"`
	City           string    `expr:"city" json:"city"`
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
	{"user.txCount10m", "int", "user's transactions in the trailing 10 minutes, this one included"},
	{"user.txCount1h", "int", "user's transactions in the trailing hour, this one included"},
	{"user.txCount24h", "int", "user's transactions in the trailing 24 hours, this one included"},
	{"user.txCount7d", "int", "user's transactions in the trailing 7 days, this one included"},
	{"user.amount10m", "float", "user's amount in the trailing 10 minutes, this one included"},
	{"user.amount1h", "float", "user's amount in the trailing hour, this one included"},
	{"user.amount24h", "float", "user's amount in the trailing 24 hours, this one included"},
	{"user.amount7d", "float", "user's amount in the trailing 7 days, this one included"},
	{"user.avgAmount24h", "float", "user's average amount over the trailing 24 hours (amount24h / txCount24h)"},
	{"user.topMerchants", "[]string", "user's most frequent merchants over 7 days, at most 5"},
	{"user.knownMerchant", "bool", "merchant is among user.topMerchants"},
	{"user.accountAgeDays", "float", "days between account creation and occurredAt"},
	{"user.role", "string", "user role: USER, VIP, ANALYST, ADMIN, SERVICE"},
	{"user.vip", "bool", "user role is VIP"},
	{"device.id", "string", "client device fingerprint; empty when none was supplied"},
	{"device.present", "bool", "a device fingerprint was supplied"},
	{"device.new", "bool", "device not seen for this user in the 7 days before this transaction"},
	{"device.userCount", "int", "distinct users seen on this device"},
	{"device.status", "string", "device status: NORMAL, ABNORMAL, BLACKLISTED"},
	{"device.ageDays", "float", "days between the device's first sighting and occurredAt"},
	{"geo.present", "bool", "a location was supplied"},
	{"geo.latitude", "float", "latitude of this transaction"},
	{"geo.longitude", "float", "longitude of this transaction"},
	{"geo.country", "string", "country of this transaction"},
	{"geo.city", "string", "city of this transaction"},
	{"geo.hasPrevious", "bool", "a location and the user's previous location (login or transaction) are both known"},
	{"geo.prevLatitude", "float", "latitude of the previous location"},
	{"geo.prevLongitude", "float", "longitude of the previous location"},
	{"geo.prevCountry", "string", "country of the previous location"},
	{"geo.distanceKm", "float", "great-circle distance from the previous location, km"},
	{"geo.elapsedMinutes", "float", "minutes since the previous location"},
	{"geo.speedKmh", "float", "distanceKm over the elapsed time, km/h (see TravelSpeed)"},
}

// Derive computes the derived features from the raw ones the store filled:
// hour, weekday, user.avgAmount24h, user.knownMerchant, user.vip,
// user.accountAgeDays, device.present, device.ageDays and the geo travel
// figures. occurredAt is the transaction's time, the engine's only clock.
func (f *Features) Derive(occurredAt time.Time) {
	at := occurredAt.UTC()
	f.Hour = at.Hour()
	f.Weekday = int(at.Weekday())

	u := &f.User
	u.AvgAmount24h = 0
	if u.TxCount24h > 0 {
		u.AvgAmount24h = u.Amount24h / float64(u.TxCount24h)
	}
	u.KnownMerchant = f.Merchant != "" && slices.Contains(u.TopMerchants, f.Merchant)
	u.VIP = u.Role == "VIP"
	u.AccountAgeDays = daysSince(u.CreatedAt, at)

	d := &f.Device
	d.Present = d.ID != ""
	d.AgeDays = 0
	if d.Present {
		d.AgeDays = daysSince(d.FirstSeen, at)
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
		"amount":           f.Amount,
		"currency":         f.Currency,
		"merchant":         f.Merchant,
		"merchantCategory": f.MerchantCategory,
		"channel":          f.Channel,
		"hour":             f.Hour,
		"weekday":          f.Weekday,
		"user": map[string]any{
			"txCount10m":     u.TxCount10m,
			"txCount1h":      u.TxCount1h,
			"txCount24h":     u.TxCount24h,
			"txCount7d":      u.TxCount7d,
			"amount10m":      u.Amount10m,
			"amount1h":       u.Amount1h,
			"amount24h":      u.Amount24h,
			"amount7d":       u.Amount7d,
			"avgAmount24h":   u.AvgAmount24h,
			"topMerchants":   slices.Clone(top),
			"knownMerchant":  u.KnownMerchant,
			"createdAt":      timeOrNil(u.CreatedAt),
			"accountAgeDays": u.AccountAgeDays,
			"role":           u.Role,
			"vip":            u.VIP,
		},
		"device": map[string]any{
			"id":        d.ID,
			"present":   d.Present,
			"new":       d.New,
			"userCount": d.UserCount,
			"status":    d.Status,
			"firstSeen": timeOrNil(d.FirstSeen),
			"ageDays":   d.AgeDays,
		},
		"geo": map[string]any{
			"present":        g.Present,
			"latitude":       g.Latitude,
			"longitude":      g.Longitude,
			"country":        g.Country,
			"city":           g.City,
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
