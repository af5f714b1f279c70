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
// Derived here: Hour, Weekday, LocalHour, TimeZone and MerchantAgeDays;
// MerchantStats and IP are reset without a merchant or an address.
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
	MerchantUsers24h  int           `expr:"merchantUsers24h" json:"merchantUsers24h" doc:"distinct users who paid this merchant in the trailing 24 hours, this one included (counted over the merchant's latest 200 payments); 0 without a merchant"`
	MerchantFirstSeen time.Time     `expr:"-" json:"merchantFirstSeen,omitzero"`
	MerchantAgeDays   float64       `expr:"merchantAgeDays" json:"merchantAgeDays" doc:"days since anyone first paid this merchant; 0 for a first payment or without a merchant"`
	MerchantStats     MerchantStats `expr:"merchantStats" json:"merchantStats"`
	// AnomalyScore is the active anomaly model's isolation-forest score of
	// this transaction within its segment (internal/anomaly); the scorer sets
	// it after the other features, since it reads them.
	AnomalyScore float64 `expr:"anomalyScore" json:"anomalyScore" doc:"0..1 isolation-forest score of this transaction within its segment (near 1: isolated in few random splits, unlike recent traffic; around 0.5 or below: ordinary); 0 when no anomaly model is active"`
	// IPAddress is the client's address in canonical form; lists of kind IP
	// and CIDR look it up (inList).
	IPAddress string         `expr:"ipAddress" json:"ipAddress" doc:"client IP address in canonical form; empty when none was supplied"`
	IP        IPFeatures     `expr:"ip" json:"ip"`
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
// AccountAgeDays, DaysSincePrevious, VIP, Spend7dToDailyAvg30d,
// SpendAcceleration, AmountPercentile, HourTypicality and NewCategory.
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
	// Slow attacks stay under every fixed line, one payment at a time: these
	// read a week against the user's own longer history.
	NearLineCount7d int `expr:"nearLineCount7d" json:"nearLineCount7d" doc:"user's transactions in the trailing 7 days with an amount from 90 % of NEAR_LINE (default 10,000) up to just under it, this one included"`
	// Spend30dBefore7d is the user's spend in the 30 days before the 7-day
	// window (37 to 7 days ago), the baseline of Spend7dToDailyAvg30d.
	Spend30dBefore7d     float64 `expr:"-" json:"spend30dBefore7d"`
	Spend7dToDailyAvg30d float64 `expr:"spend7dToDailyAvg30d" json:"spend7dToDailyAvg30d" doc:"amount7d / (7 × the user's daily average spend over the 30 days before the 7-day window); 0 without spend in those 30 days"`
	NewMerchants24h      int     `expr:"newMerchants24h" json:"newMerchants24h" doc:"distinct merchants the user paid in the trailing 24 hours, this one included, that they had not paid in the 30 days before the window"`
	NewMerchants72h      int     `expr:"newMerchants72h" json:"newMerchants72h" doc:"as newMerchants24h, over the trailing 72 hours"`
	SpendAcceleration    float64 `expr:"spendAcceleration" json:"spendAcceleration" doc:"amount24h / (the user's spend in the 6 days before the 24 hours ÷ 6); 0 without spend in those 6 days"`
	// History90d, HistoryBelow and HistoryNearHour count the user's previous
	// transactions (the latest 200 in 90 days), those with a smaller amount
	// and those within an hour of this one's hour of day; CategorySeen90d
	// tells whether one was in this merchant category. The baselines below
	// derive from them.
	History90d       int     `expr:"-" json:"history90d"`
	HistoryBelow     int     `expr:"-" json:"historyBelow"`
	HistoryNearHour  int     `expr:"-" json:"historyNearHour"`
	CategorySeen90d  bool    `expr:"-" json:"categorySeen90d"`
	AmountPercentile float64 `expr:"amountPercentile" json:"amountPercentile" doc:"share (0..1) of the user's previous transactions (the latest 200 in 90 days) with a smaller amount than this one; -1 with fewer than 5"`
	HourTypicality   float64 `expr:"hourTypicality" json:"hourTypicality" doc:"share (0..1) of the user's previous transactions (the latest 200 in 90 days) within an hour of this one's hour of day (UTC, across midnight); -1 with fewer than 5"`
	NewCategory      bool    `expr:"newCategory" json:"newCategory" doc:"a merchant category is given, the user has 5 or more previous transactions in 90 days (the latest 200), and none in this category (case-insensitive)"`
}

// MerchantStats describes the merchant's recent payers: an attack spread
// over many customers, each of whom looks normal, shows at the merchant.
// Payers are counted over the merchant's latest 200 payments in 24 hours,
// the rest over its latest 50 in the hour (each needs a look-up of the
// device and the payer), this one included; all 0 without a merchant.
type MerchantStats struct {
	Payers10m     int `expr:"payers10m" json:"payers10m" doc:"distinct users who paid this merchant in the trailing 10 minutes, this one included (over the merchant's latest 200 payments); 0 without a merchant"`
	Payers1h      int `expr:"payers1h" json:"payers1h" doc:"as merchantStats.payers10m, over the trailing hour"`
	NewDevices10m int `expr:"newDevices10m" json:"newDevices10m" doc:"distinct devices that paid this merchant in the trailing 10 minutes, this one included, first seen (by anyone) under 24 hours before that payment, as known when that payment was recorded (over the merchant's latest 50 payments in the hour); 0 without a merchant"`
	NewDevices1h  int `expr:"newDevices1h" json:"newDevices1h" doc:"as merchantStats.newDevices10m, over the trailing hour"`
	// TinyShare1h is a share, not a count: a busy merchant's card testers
	// are a handful among many.
	TinyShare1h          float64 `expr:"tinyShare1h" json:"tinyShare1h" doc:"share (0..1) of the merchant's payments in the trailing hour, this one included, under SMALL_AMOUNT (over its latest 50 in the hour); 0 without a merchant"`
	PayerMedianAgeDays1h float64 `expr:"payerMedianAgeDays1h" json:"payerMedianAgeDays1h" doc:"median account age in days, at this transaction, of the distinct users who paid this merchant in the trailing hour, this one included (over its latest 50 payments in the hour); -1 without a merchant"`
}

// IPFeatures describes the client address's and its subnet's recent users
// and devices, over the latest 200 payments from each in 24 hours, this one
// included; all 0 without an address. The subnet is the /24 of an IPv4
// address (an IPv4-mapped IPv6 address counts as IPv4) or the /48 of an IPv6 one.
type IPFeatures struct {
	Users10m         int `expr:"users10m" json:"users10m" doc:"distinct users who paid from this IP address in the trailing 10 minutes, this one included (over the address's latest 200 payments in 24 hours); 0 without an address"`
	Users24h         int `expr:"users24h" json:"users24h" doc:"as ip.users10m, over the trailing 24 hours"`
	Devices10m       int `expr:"devices10m" json:"devices10m" doc:"distinct devices that paid from this IP address in the trailing 10 minutes, this one's included (over the same latest 200); 0 without an address"`
	Devices24h       int `expr:"devices24h" json:"devices24h" doc:"as ip.devices10m, over the trailing 24 hours"`
	SubnetUsers10m   int `expr:"subnetUsers10m" json:"subnetUsers10m" doc:"as ip.users10m, for the address's /24 (IPv4) or /48 (IPv6) subnet"`
	SubnetUsers24h   int `expr:"subnetUsers24h" json:"subnetUsers24h" doc:"as ip.users24h, for the subnet"`
	SubnetDevices10m int `expr:"subnetDevices10m" json:"subnetDevices10m" doc:"as ip.devices10m, for the subnet"`
	SubnetDevices24h int `expr:"subnetDevices24h" json:"subnetDevices24h" doc:"as ip.devices24h, for the subnet"`
}

// DeviceFeatures describes the device the transaction came from. New means
// not seen for this user in the 7 days before this transaction, so the store
// must look before recording it; UserFirstSeen is when this user first used
// it, zero the first time. Derived: Present, AgeDays, UserAgeDays,
// LastSeenMinutes, NewToAll7d and Usual.
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
	// Accounts1h counts every user, unlike UserCount24h: a family tablet and
	// a ring's phone alike, for rules to combine with other signals.
	Accounts1h int `expr:"accounts1h" json:"accounts1h" doc:"distinct users who paid from this device in the trailing hour, this one included (over the device's latest 1,000 payments in 24 hours); 0 without a device"`
	// DaysUsed30d counts the distinct UTC days on which this user paid from
	// the device in the 30 days before this transaction; Usual derives from it.
	DaysUsed30d int  `expr:"-" json:"daysUsed30d"`
	Usual       bool `expr:"usual" json:"usual" doc:"a device is given and this user paid from it on 3 or more distinct days (UTC) in the previous 30, or first used it (transaction or login) 14 or more days ago"`
}

// GeoFeatures describes where the transaction happened and how far and fast
// the user travelled since their previous known location (login or
// transaction), which the store gives as HasPrevious and the Prev* fields.
// Derived: DistanceKm, ElapsedMinutes, SpeedKmh and PlausibleJourney.
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
	// The suppression context: what makes a long move a journey rather
	// than a stolen credential (README "Plausible journeys").
	TravelBooked         bool `expr:"travelBooked" json:"travelBooked" doc:"the user paid a travel merchant (merchantCategory travel, airline, airfare, hotel, lodging or car_rental, case-insensitive) in the 14 days before"`
	LoginNearDestination bool `expr:"loginNearDestination" json:"loginNearDestination" doc:"a location is given and the user logged in successfully in the 24 hours before from within 100 km of it or from its country"`
	PlausibleJourney     bool `expr:"plausibleJourney" json:"plausibleJourney" doc:"geo.hasPrevious, more than 100 km from the previous location (the travel rule's distance), on the user's usual device (device.usual), and geo.travelBooked or geo.loginNearDestination"`
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
// user.accountAgeDays, user.daysSincePrevious, the user's spend ratios and
// personal baselines, device.present, the device ages, device.usual, the geo
// travel figures and geo.plausibleJourney. occurredAt is the transaction's time, the
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
	} else {
		f.MerchantStats = MerchantStats{PayerMedianAgeDays1h: -1}
	}
	if f.IPAddress == "" {
		f.IP = IPFeatures{}
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
	u.Spend7dToDailyAvg30d = ratio(u.Amount7d, 7*u.Spend30dBefore7d/30)
	// The previous 6 days' spend is the week's less the day's; below half a
	// cent it is rounding, not spend.
	u.SpendAcceleration = 0
	if prev := u.Amount7d - u.Amount24h; prev >= 0.005 {
		u.SpendAcceleration = u.Amount24h / (prev / 6)
	}
	u.AmountPercentile, u.HourTypicality = share(u.HistoryBelow, u.History90d), share(u.HistoryNearHour, u.History90d)
	u.NewCategory = f.MerchantCategory != "" && u.History90d >= minHistory && !u.CategorySeen90d

	d := &f.Device
	d.Present = d.ID != ""
	d.AgeDays, d.UserAgeDays, d.LastSeenMinutes, d.NewToAll7d, d.Usual = 0, 0, -1, false, false
	if d.Present {
		d.AgeDays = daysSince(d.FirstSeen, at)
		d.UserAgeDays = daysSince(d.UserFirstSeen, at)
		d.NewToAll7d = d.LastSeen.IsZero() || at.Sub(d.LastSeen) >= 7*24*time.Hour
		if !d.LastSeen.IsZero() {
			d.LastSeenMinutes = max(at.Sub(d.LastSeen).Minutes(), 0)
		}
		d.Usual = d.DaysUsed30d >= 3 || d.UserAgeDays >= 14
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
	g.PlausibleJourney = g.HasPrevious && g.DistanceKm > journeyKm && d.Usual && (g.TravelBooked || g.LoginNearDestination)
}

// journeyKm is the impossible-travel rule's distance: shorter moves are
// location jitter, not journeys.
const journeyKm = 100

// minHistory is how many previous transactions a personal baseline needs.
const minHistory = 5

// share is part/whole, -1 (no baseline) when whole is under minHistory.
func share(part, whole int) float64 {
	if whole < minHistory {
		return -1
	}
	return float64(part) / float64(whole)
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
