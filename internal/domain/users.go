// Package domain holds the data model: bun-mapped structs that gqlgen also binds
// to GraphQL types, and the enums of the domain.
package domain

import (
	"encoding/json"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// Role is what a user may do; see DESIGN.md "Roles".
type Role string

// The roles.
const (
	RoleUser    Role = "USER"
	RoleVIP     Role = "VIP"
	RoleAnalyst Role = "ANALYST"
	RoleAdmin   Role = "ADMIN"
	RoleService Role = "SERVICE"
)

// Staff reports whether the role reads everyone's data.
func (r Role) Staff() bool { return r == RoleAnalyst || r == RoleAdmin }

// Customer reports whether the role is limited to its own data.
func (r Role) Customer() bool { return r == RoleUser || r == RoleVIP }

// roleRank orders the roles by power: customers, payment systems, analysts, admins.
var roleRank = map[Role]int{RoleUser: 1, RoleVIP: 1, RoleService: 2, RoleAnalyst: 3, RoleAdmin: 4}

// Outranks reports whether r stands strictly above o: no role acts on an
// account of an equal or higher role, or grants such a role (DESIGN.md "Roles").
func (r Role) Outranks(o Role) bool { return roleRank[r] > roleRank[o] }

// UserStatus gates login and transactions.
type UserStatus string

// The user statuses.
const (
	UserActive   UserStatus = "ACTIVE"
	UserFrozen   UserStatus = "FROZEN"
	UserDisabled UserStatus = "DISABLED"
)

// DeviceStatus is an analyst's verdict on a device.
type DeviceStatus string

// The device statuses.
const (
	DeviceNormal      DeviceStatus = "NORMAL"
	DeviceAbnormal    DeviceStatus = "ABNORMAL"
	DeviceBlacklisted DeviceStatus = "BLACKLISTED"
)

// Location is a point a client reported, with optional place names.
type Location struct {
	Latitude  float64
	Longitude float64
	Country   *string
	City      *string
}

// locationOf is the location stored in nullable columns; nil without coordinates.
func locationOf(lat, lon *float64, country, city *string) *Location {
	if lat == nil || lon == nil {
		return nil
	}
	return &Location{Latitude: *lat, Longitude: *lon, Country: country, City: city}
}

// MaxPlaceLen bounds a location's country and city.
const MaxPlaceLen = 100

// Validate checks the coordinates and the names' lengths; errors name the
// field as "location.latitude" and so on.
func (l *Location) Validate() error {
	switch {
	case math.IsNaN(l.Latitude) || l.Latitude < -90 || l.Latitude > 90:
		return apperr.Invalid("location.latitude", "must be between -90 and 90")
	case math.IsNaN(l.Longitude) || l.Longitude < -180 || l.Longitude > 180:
		return apperr.Invalid("location.longitude", "must be between -180 and 180")
	case l.Country != nil && len(*l.Country) > MaxPlaceLen:
		return apperr.Invalid("location.country", "is too long")
	case l.City != nil && len(*l.City) > MaxPlaceLen:
		return apperr.Invalid("location.city", "is too long")
	}
	return nil
}

// User is an account: a customer, staff member or payment system.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID             int64      `bun:"id,pk,autoincrement"`
	Username       string     `bun:"username"`
	Email          string     `bun:"email"`
	PasswordHash   string     `bun:"password_hash" json:"-"`
	Role           Role       `bun:"role"`
	Status         UserStatus `bun:"status"`
	LastLoginAt    *time.Time `bun:"last_login_at"`
	LastLatitude   *float64   `bun:"last_latitude"`
	LastLongitude  *float64   `bun:"last_longitude"`
	LastCountry    *string    `bun:"last_country"`
	LastCity       *string    `bun:"last_city"`
	LastLocationAt *time.Time `bun:"last_location_at"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt      time.Time  `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// LastLocation is the newest location seen at login or in a transaction.
func (u *User) LastLocation() *Location {
	return locationOf(u.LastLatitude, u.LastLongitude, u.LastCountry, u.LastCity)
}

// Session is one login; its refresh tokens rotate within it.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID        uuid.UUID  `bun:"id,pk,type:uuid"`
	UserID    int64      `bun:"user_id"`
	IPAddress string     `bun:"ip_address"`
	UserAgent string     `bun:"user_agent"`
	CreatedAt time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	ExpiresAt time.Time  `bun:"expires_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

// RefreshToken is stored only as a hash.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	TokenHash []byte     `bun:"token_hash,pk"`
	SessionID uuid.UUID  `bun:"session_id,type:uuid"`
	CreatedAt time.Time  `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	RotatedAt *time.Time `bun:"rotated_at"`
}

// Device is a client device, identified by its fingerprint.
type Device struct {
	bun.BaseModel `bun:"table:devices,alias:d"`

	ID          int64        `bun:"id,pk,autoincrement"`
	Fingerprint string       `bun:"fingerprint"`
	Status      DeviceStatus `bun:"status"`
	FirstSeenAt time.Time    `bun:"first_seen_at"`
	LastSeenAt  time.Time    `bun:"last_seen_at"`
	CreatedAt   time.Time    `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	UpdatedAt   time.Time    `bun:"updated_at,nullzero,notnull,default:current_timestamp"`
}

// LoginLog records one login attempt.
type LoginLog struct {
	bun.BaseModel `bun:"table:login_logs,alias:ll"`

	ID                int64    `bun:"id,pk,autoincrement"`
	UserID            *int64   `bun:"user_id"`
	Username          string   `bun:"username"`
	Success           bool     `bun:"success"`
	FailureReason     *string  `bun:"failure_reason"`
	IPAddress         string   `bun:"ip_address"`
	UserAgent         string   `bun:"user_agent"`
	DeviceFingerprint *string  `bun:"device_fingerprint"`
	DeviceID          *int64   `bun:"device_id"`
	Latitude          *float64 `bun:"latitude"`
	Longitude         *float64 `bun:"longitude"`
	Country           *string  `bun:"country"`
	City              *string  `bun:"city"`
	// RiskScore, RiskLevel and MatchedRules are the login's detection; nil
	// for a failed login, which is never scored.
	RiskScore    *float64      `bun:"risk_score"`
	RiskLevel    *RiskLevel    `bun:"risk_level"`
	MatchedRules []MatchedRule `bun:"matched_rules,type:jsonb"`
	// CreatedAt is when the login happened: now, or a recorded login's occurredAt.
	CreatedAt time.Time `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

// LoginDetection is a scored login's result.
type LoginDetection struct {
	RiskScore    float64
	RiskLevel    RiskLevel
	MatchedRules []MatchedRule
}

// Detection returns the login's detection, nil when it was not scored.
func (l *LoginLog) Detection() *LoginDetection {
	if l.RiskScore == nil || l.RiskLevel == nil {
		return nil
	}
	return &LoginDetection{RiskScore: *l.RiskScore, RiskLevel: *l.RiskLevel, MatchedRules: l.MatchedRules}
}

// Location is where the client said the login came from.
func (l *LoginLog) Location() *Location {
	return locationOf(l.Latitude, l.Longitude, l.Country, l.City)
}

// AuditLog is one security- or business-relevant action.
type AuditLog struct {
	bun.BaseModel `bun:"table:audit_logs,alias:al"`

	ID         int64           `bun:"id,pk,autoincrement"`
	ActorID    *int64          `bun:"actor_id"`
	Action     string          `bun:"action"`
	TargetType string          `bun:"target_type"`
	TargetID   string          `bun:"target_id"`
	Details    json.RawMessage `bun:"details,type:jsonb"`
	IPAddress  string          `bun:"ip_address"`
	CreatedAt  time.Time       `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}
