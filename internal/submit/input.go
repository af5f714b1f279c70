package submit

import (
	"crypto/sha256"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// Input is a transaction as a payment system submits it.
type Input struct {
	// UserID is whom the transaction is for; customers may only name themselves.
	UserID           *int64
	Amount           decimal.Decimal
	Currency         string
	MerchantID       *string
	MerchantCategory *string
	Channel          *string
	// DeviceID is the client's device fingerprint.
	DeviceID       *string
	IPAddress      *string
	Location       *domain.Location
	OccurredAt     *time.Time
	IdempotencyKey *string
	// SourceID names the data source the transaction came through.
	SourceID *int64
}

// Limits on a submission.
const (
	DefaultCurrency = "CNY"
	MaxBackfill     = 30 * 24 * time.Hour
	MaxClockSkew    = 5 * time.Minute
	maxKeyLen       = 255
	maxIDLen        = 128
)

var maxAmount = decimal.New(1, 12)

var textPattern = regexp.MustCompile(`^[\p{L}\p{N} ._:/@#+\-]*$`)

// normalize validates in place and fills defaults; errors name the field.
func (in *Input) normalize(now time.Time) error {
	switch {
	case !in.Amount.IsPositive():
		return apperr.Invalid("amount", "must be greater than 0")
	case in.Amount.GreaterThan(maxAmount):
		return apperr.Invalid("amount", "must be at most 1000000000000")
	case !in.Amount.Equal(in.Amount.Truncate(2)):
		return apperr.Invalid("amount", "must have at most 2 fraction digits")
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = DefaultCurrency
	}
	if len(in.Currency) != 3 {
		return apperr.Invalid("currency", "must be an ISO 4217 code such as CNY")
	}
	if _, err := currency.ParseISO(in.Currency); err != nil {
		return apperr.Invalid("currency", "must be an ISO 4217 code such as CNY")
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"merchantId", in.MerchantID}, {"merchantCategory", in.MerchantCategory}, {"channel", in.Channel}, {"deviceId", in.DeviceID}} {
		if err := cleanText(f.name, f.value); err != nil {
			return err
		}
	}
	if in.IPAddress != nil {
		*in.IPAddress = strings.TrimSpace(*in.IPAddress)
		addr, err := netip.ParseAddr(*in.IPAddress)
		if err != nil {
			return apperr.Invalid("ipAddress", "is not an IP address")
		}
		*in.IPAddress = addr.String()
	}
	if in.Location != nil {
		if err := in.Location.Validate(); err != nil {
			return err
		}
	}
	if in.OccurredAt != nil {
		at := in.OccurredAt.UTC()
		if at.Before(now.Add(-MaxBackfill)) {
			return apperr.Invalid("occurredAt", "must be within the last 30 days")
		}
		if at.After(now.Add(MaxClockSkew)) {
			return apperr.Invalid("occurredAt", "must not be more than 5 minutes in the future")
		}
		in.OccurredAt = &at
	}
	if in.IdempotencyKey != nil {
		if k := *in.IdempotencyKey; k == "" || len(k) > maxKeyLen {
			return apperr.Invalid("idempotencyKey", "must be 1 to 255 characters")
		}
	}
	return nil
}

// cleanText trims an optional identifier and checks its size and characters.
func cleanText(field string, v *string) error {
	if v == nil {
		return nil
	}
	*v = strings.TrimSpace(*v)
	switch {
	case *v == "":
		return apperr.Invalid(field, "must not be empty when given")
	case len(*v) > maxIDLen:
		return apperr.Invalid(field, "must be at most 128 characters")
	case !textPattern.MatchString(*v):
		return apperr.Invalid(field, "contains characters that are not allowed")
	}
	return nil
}

// hash fingerprints the request so a reused idempotency key with another body is caught.
func (in *Input) hash(userID int64) []byte {
	body, _ := json.Marshal(struct {
		UserID                                                     int64
		Amount, Currency                                           string
		MerchantID, MerchantCategory, Channel, DeviceID, IPAddress *string
		Location                                                   *domain.Location
		OccurredAt                                                 *time.Time
		SourceID                                                   *int64
	}{userID, in.Amount.StringFixed(2), in.Currency, in.MerchantID, in.MerchantCategory, in.Channel, in.DeviceID, in.IPAddress, in.Location, in.OccurredAt, in.SourceID})
	sum := sha256.Sum256(body)
	return sum[:]
}
