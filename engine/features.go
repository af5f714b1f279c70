// Package engine scores a transaction: it holds the feature vector, compiles
// and evaluates rule conditions, fuses the rule score with an optional model
// score and decides. It is pure computation: no I/O, and the clock is always
// passed in.
package engine

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// Features is the documented feature vector of one transaction. The store
// fills the raw fields, Derive computes the rest, and rule conditions read it
// under the lowerCamel names of the expr tags (listed in FeatureDocs).
// Derived here: Hour, Weekday, LocalHour, TimeZone and MerchantAgeDays.
type Features struct {
	// Amount is a float only for rule comparison; money stays exact elsewhere.
	Amount           float64 `expr:"amount" json:"amount" doc:"transaction amount in its currency"`
	Currency         string  `expr:"currency" json:"currency" doc:"ISO 4217 currency code"`
	Merchant         string  `expr:"merchant" json:"merchant" doc:"merchant ID"`
	MerchantCategory string  `expr:"merchantCategory" json:"merchantCategory" doc:"merchant category"`
	Channel          string  `expr:"channel" json:"channel" doc:"payment channel"`
	Hour             int     `expr:"hour" json:"hour" doc:"hour of day of occurredAt, UTC (0-23)"`
	Weekday          int     `expr:"weekday" json:"weekday" doc:"day of week of occurredAt, UTC (0 = Sunday … 6 = Saturday)"`
	// LocalHour is the hour at the place of the transaction (or, without
	// one, the user's previous location), in the zone TimeZone names.
	LocalHour int    `expr:"localHour" json:"localHour" doc:"hour of day of occurredAt in timeZone (0-23)"`
	TimeZone  string `expr:"timeZone" json:"timeZone" doc:"time zone of the transaction's place: its country's (by longitude where a country has several), else the nearest whole-hour offset to its longitude; without a location, the user's previous location's; else UTC"`
	// MerchantUsers24h counts the distinct users who paid this merchant in
	// the trailing 24 hours, this one included: many new payers of one payee
	// is a mule account collecting from scam victims.
	MerchantUsers24h  int       `expr:"merchantUsers24h" json:"merchantUsers24h" doc:"distinct users who paid this merchant in the trailing 24 hours, this one included (counted over the merchant's latest 200 payments); 0 without a merchant"`
	MerchantFirstSeen time.Time `expr:"-" json:"merchantFirstSeen,omitzero"`
	MerchantAgeDays   float64   `expr:"merchantAgeDays" json:"merchantAgeDays" doc:"days since anyone first paid this merchant; 0 for a first payment or without a merchant"`
	// AnomalyScore is the active anomaly model's isolation-forest score of
	// this transaction within its segment (internal/anomaly); the scorer sets
	// it after the other features, since it reads them.
	AnomalyScore float64 `expr:"anomalyScore" json:"anomalyScore" doc:"0..1 isolation-forest score of this transaction within its segment (near 1: isolated in few random splits, unlike recent traffic; around 0.5 or below: ordinary); 0 when no anomaly model is active"`
	// IPAddress is the client's address in canonical form; lists of kind IP
	// and CIDR look it up (inList).
	IPAddress string         `expr:"ipAddress" json:"ipAddress" doc:"client IP address in canonical form; empty when none was supplied"`
	User      UserFeatures   `expr:"user" json:"user"`
	Device    DeviceFeatures `expr:"device" json:"device"`
	Geo       GeoFeatures    `expr:"geo" json:"geo"`
	// Lists are the block and allow lists inList reads; the scorer sets them
	// (nil: no lists, inList is false). Not a feature, and not in snapshots.
	Lists *ListSet `expr:"-" json:"-"`
	// OccurredAt is the transaction's time, set by Derive: list entries
	// expire in event time, the engine's only clock.
	OccurredAt time.Time `expr:"-" json:"occurredAt,omitzero"`
}

// UserFeatures describes the paying user. Windowed counts and sums include
// the transaction being scored, so "5 in 10 minutes" counts this one too.
// The 30-day baseline (AvgAmount30d, MaxAmount30d) is the user's previous
// transactions only, so this one is measured against it.
// Derived: AvgAmount24h, AmountToAvg30d, AmountToMax30d, KnownMerchant,
// AccountAgeDays, DaysSincePrevious and VIP.
type UserFeatures struct {
	TxCount10m     int     `expr:"txCount10m" json:"txCount10m" doc:"user's transactions in the trailing 10 minutes, this one included"`
	TxCount1h      int     `expr:"txCount1h" json:"txCount1h" doc:"user's transactions in the trailing hour, this one included"`
	TxCount24h     int     `expr:"txCount24h" json:"txCount24h" doc:"user's transactions in the trailing 24 hours, this one included"`
	TxCount7d      int     `expr:"txCount7d" json:"txCount7d" doc:"user's transactions in the trailing 7 days, this one included"`
	Amount10m      float64 `expr:"amount10m" json:"amount10m" doc:"user's amount in the trailing 10 minutes, this one included"`
	Amount1h       float64 `expr:"amount1h" json:"amount1h" doc:"user's amount in the trailing hour, this one included"`
	Amount24h      float64 `expr:"amount24h" json:"amount24h" doc:"user's amount in the trailing 24 hours, this one included"`
	Amount7d       float64 `expr:"amount7d" json:"amount7d" doc:"user's amount in the trailing 7 days, this one included"`
	AvgAmount24h   float64 `expr:"avgAmount24h" json:"avgAmount24h" doc:"user's average amount over the trailing 24 hours (amount24h / txCount24h)"`
	TxCount30d     int     `expr:"txCount30d" json:"txCount30d" doc:"user's transactions in the trailing 30 days, this one included"`
	AvgAmount30d   float64 `expr:"avgAmount30d" json:"avgAmount30d" doc:"average amount of the user's previous transactions in the trailing 30 days (this one excluded); 0 without any"`
	MaxAmount30d   float64 `expr:"maxAmount30d" json:"maxAmount30d" doc:"largest amount of the user's previous transactions in the trailing 30 days (this one excluded); 0 without any"`
	AmountToAvg30d float64 `expr:"amountToAvg30d" json:"amountToAvg30d" doc:"amount / avgAmount30d; 0 without previous transactions in 30 days"`
	AmountToMax30d float64 `expr:"amountToMax30d" json:"amountToMax30d" doc:"amount / maxAmount30d; 0 without previous transactions in 30 days"`
	// SmallTxCount10m counts amounts under the configured small amount
	// (SMALL_AMOUNT): card testers probe a stolen card with tiny payments.
	SmallTxCount10m   int       `expr:"smallTxCount10m" json:"smallTxCount10m" doc:"user's transactions under SMALL_AMOUNT (default 10) in the trailing 10 minutes, this one included"`
	MerchantCount10m  int       `expr:"merchantCount10m" json:"merchantCount10m" doc:"distinct merchants the user paid in the trailing 10 minutes, this one included"`
	PrevTxAt          time.Time `expr:"-" json:"prevTxAt,omitzero"`
	DaysSincePrevious float64   `expr:"daysSincePrevious" json:"daysSincePrevious" doc:"days since the user's previous transaction, however long ago; -1 for a first transaction"`
	TopMerchants      []string  `expr:"topMerchants" json:"topMerchants" doc:"user's most frequent merchants over 7 days, at most 5"`
	KnownMerchant     bool      `expr:"knownMerchant" json:"knownMerchant" doc:"merchant is among user.topMerchants"`
	CreatedAt         time.Time `expr:"-" json:"createdAt,omitzero"`
	AccountAgeDays    float64   `expr:"accountAgeDays" json:"accountAgeDays" doc:"days between account creation and occurredAt"`
	Role              string    `expr:"role" json:"role" doc:"user role: USER, VIP, ANALYST, ADMIN, SERVICE"`
	VIP               bool      `expr:"vip" json:"vip" doc:"user role is VIP"`
}

// DeviceFeatures describes the device the transaction came from. New means
// not seen for this user in the 7 days before this transaction, so the store
// must look before recording it; UserFirstSeen is when this user first used
// it, zero the first time. Derived: Present, AgeDays, UserAgeDays,
// LastSeenMinutes and NewToAll7d.
type DeviceFeatures struct {
	ID        string `expr:"id" json:"id" doc:"client device fingerprint; empty when none was supplied"`
	Present   bool   `expr:"present" json:"present" doc:"a device fingerprint was supplied"`
	New       bool   `expr:"new" json:"new" doc:"device not seen for this user in the 7 days before this transaction"`
	UserCount int    `expr:"userCount" json:"userCount" doc:"distinct users seen on this device, this one included, counting others only if they came to it no later than a day after this user did (see \"Device users\" below)"`
	// UserCount24h and UserCount7d count the distinct users who transacted
	// on the device in the window, this one included: a device ring's
	// synthetic accounts share one phone. Others count only if they came to
	// the device no later than a day after this user did, so throwaway
	// accounts borrowing an established customer's fingerprint flag
	// themselves, not the customer (the store computes it; see README).
	UserCount24h int    `expr:"userCount24h" json:"userCount24h" doc:"distinct users who transacted on this device in the trailing 24 hours, this one included, counting others only if they came to the device no later than a day after this user did (over the device's latest 200 transactions)"`
	UserCount7d  int    `expr:"userCount7d" json:"userCount7d" doc:"as userCount24h, over the trailing 7 days"`
	Status       string `expr:"status" json:"status" doc:"device status: NORMAL, ABNORMAL, BLACKLISTED"`
	// FirstSeen is hidden from rules, which use AgeDays: a time would invite
	// comparisons against the wall clock.
	FirstSeen     time.Time `expr:"-" json:"firstSeen,omitzero"`
	AgeDays       float64   `expr:"ageDays" json:"ageDays" doc:"days between the device's first sighting and occurredAt"`
	UserFirstSeen time.Time `expr:"-" json:"userFirstSeen,omitzero"`
	UserAgeDays   float64   `expr:"userAgeDays" json:"userAgeDays" doc:"days since this user first used this device (transaction or login); 0 the first time"`
	// TxCount24h and Amount24h count every user's payments on the device: a
	// phone cycling through accounts spends from all of them (seed 004).
	TxCount24h int     `expr:"txCount24h" json:"txCount24h" doc:"every user's transactions on this device in the trailing 24 hours, this one included (over the device's latest 1,000 in the window); 0 without a device"`
	Amount24h  float64 `expr:"amount24h" json:"amount24h" doc:"every user's amount on this device in the trailing 24 hours, this one included (over the same latest 1,000); 0 without a device"`
	// LastSeen is the device's previous sighting by anyone, at or before this
	// transaction in event time: a transaction or a successful login.
	LastSeen        time.Time `expr:"-" json:"lastSeen,omitzero"`
	LastSeenMinutes float64   `expr:"lastSeenMinutes" json:"lastSeenMinutes" doc:"minutes since the device's previous sighting (any user's transaction or successful login) at or before this transaction; -1 for a first sighting or without a device"`
	// NewToAll7d is seed 004's new device: new to everyone, where New is new
	// to this user.
	NewToAll7d bool `expr:"newToAll7d" json:"newToAll7d" doc:"a device is given and no user used it (transaction or successful login) in the 7 days before this transaction; see new for this user alone"`
}

// GeoFeatures describes where the transaction happened and how far and fast
// the user travelled since their previous known location (login or
// transaction), which the store gives as HasPrevious and the Prev* fields.
// Derived: DistanceKm, ElapsedMinutes and SpeedKmh.
type GeoFeatures struct {
	Present   bool    `expr:"present" json:"present" doc:"a location was supplied"`
	Latitude  float64 `expr:"latitude" json:"latitude" doc:"latitude of this transaction"`
	Longitude float64 `expr:"longitude" json:"longitude" doc:"longitude of this transaction"`
	Country   string  `expr:"country" json:"country" doc:"country of this transaction"`
	City      string  `expr:"city" json:"city" doc:"city of this transaction"`
	// NewCountry: the user paid from places in the previous 30 days, none in this country.
	NewCountry     bool      `expr:"newCountry" json:"newCountry" doc:"a country is given, the user has located transactions in the previous 30 days, and none in this country"`
	HasPrevious    bool      `expr:"hasPrevious" json:"hasPrevious" doc:"a location and the user's previous location (login or transaction) are both known"`
	PrevLatitude   float64   `expr:"prevLatitude" json:"prevLatitude" doc:"latitude of the previous location"`
	PrevLongitude  float64   `expr:"prevLongitude" json:"prevLongitude" doc:"longitude of the previous location"`
	PrevCountry    string    `expr:"prevCountry" json:"prevCountry" doc:"country of the previous location"`
	PrevAt         time.Time `expr:"-" json:"prevAt,omitzero"`
	DistanceKm     float64   `expr:"distanceKm" json:"distanceKm" doc:"great-circle distance from the previous location, km"`
	ElapsedMinutes float64   `expr:"elapsedMinutes" json:"elapsedMinutes" doc:"minutes since the previous location"`
	SpeedKmh       float64   `expr:"speedKmh" json:"speedKmh" doc:"distanceKm over the elapsed time, km/h (see TravelSpeed)"`
}

// FeatureDoc documents one feature as rule conditions name it.
type FeatureDoc struct {
	Name        string
	Type        string
	Description string
}

// FeatureDocs lists every feature a condition can read, in struct order,
// from the struct's own tags: a feature is declared once, as a field with
// its expr name and doc.
var FeatureDocs = func() []FeatureDoc {
	var docs []FeatureDoc
	walkFeatures(func(name string, field reflect.StructField, _ uintptr) {
		docs = append(docs, FeatureDoc{Name: name, Type: featureType(field.Type), Description: field.Tag.Get("doc")})
	})
	return docs
}()

// walkFeatures calls fn for every feature a condition can read (fields with
// an expr name, nested structs flattened to dotted names), with its offset
// in Features; it panics on a feature without a doc tag, at init.
func walkFeatures(fn func(name string, field reflect.StructField, offset uintptr)) {
	var walk func(t reflect.Type, prefix string, base uintptr)
	walk = func(t reflect.Type, prefix string, base uintptr) {
		for i := range t.NumField() {
			field := t.Field(i)
			name := field.Tag.Get("expr")
			switch {
			case name == "" || name == "-":
				continue
			case field.Type.Kind() == reflect.Struct:
				walk(field.Type, prefix+name+".", base+field.Offset)
				continue
			case field.Tag.Get("doc") == "":
				panic("engine: feature " + prefix + name + " has no doc tag")
			}
			fn(prefix+name, field, base+field.Offset)
		}
	}
	walk(reflect.TypeFor[Features](), "", 0)
}

// featureType names a feature's type as the docs show it.
func featureType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float64:
		return "float"
	case reflect.Slice:
		return "[]" + t.Elem().String()
	}
	return t.String()
}

// Derive computes the derived features from the raw ones the store filled:
// hour, weekday, localHour, timeZone, merchantAgeDays, user.avgAmount24h,
// the user's amount ratios, user.knownMerchant, user.vip,
// user.accountAgeDays, user.daysSincePrevious, device.present, the device
// ages and the geo travel figures. occurredAt is the transaction's time, the
// engine's only clock.
func (f *Features) Derive(occurredAt time.Time) {
	at := occurredAt.UTC()
	f.OccurredAt = at
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
	d.AgeDays, d.UserAgeDays, d.LastSeenMinutes, d.NewToAll7d = 0, 0, -1, false
	if d.Present {
		d.AgeDays = daysSince(d.FirstSeen, at)
		d.UserAgeDays = daysSince(d.UserFirstSeen, at)
		d.NewToAll7d = d.LastSeen.IsZero() || at.Sub(d.LastSeen) >= 7*24*time.Hour
		if !d.LastSeen.IsZero() {
			d.LastSeenMinutes = max(at.Sub(d.LastSeen).Minutes(), 0)
		}
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

// Snapshot returns the feature vector as JSON, under the names conditions
// use, with the times hidden from conditions (RFC 3339, absent when
// unknown). It is stored with the detection.
func (f *Features) Snapshot() ([]byte, error) {
	c := *f
	if c.User.TopMerchants == nil {
		c.User.TopMerchants = []string{} // [] rather than null
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("engine: feature snapshot: %w", err)
	}
	return b, nil
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
