package submit

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/scalar"
)

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		in    Input
		field string
	}{
		{"defaults", Input{Amount: decimal.RequireFromString("12000")}, ""},
		{"two decimals", Input{Amount: decimal.RequireFromString("0.01")}, ""},
		{"max", Input{Amount: decimal.RequireFromString("1000000000000")}, ""},
		{"zero", Input{Amount: decimal.Zero}, "amount"},
		{"three decimals", Input{Amount: decimal.RequireFromString("1.001")}, "amount"},
		{"too large", Input{Amount: decimal.RequireFromString("1000000000000.01")}, "amount"},
		{"currency", Input{Amount: decimal.NewFromInt(1), Currency: "ABC"}, "currency"},
		{"lowercase currency", Input{Amount: decimal.NewFromInt(1), Currency: "usd"}, ""},
		{"empty merchant", Input{Amount: decimal.NewFromInt(1), MerchantID: str("  ")}, "merchantId"},
		{"ipv6", Input{Amount: decimal.NewFromInt(1), IPAddress: str("2001:db8::1")}, ""},
		{"bad ip", Input{Amount: decimal.NewFromInt(1), IPAddress: str("1.2.3")}, "ipAddress"},
		{"nan latitude", Input{Amount: decimal.NewFromInt(1), Location: &domain.Location{Latitude: math.NaN()}}, "location.latitude"},
		{"31 days back", Input{Amount: decimal.NewFromInt(1), OccurredAt: ptr(now.Add(-31 * 24 * time.Hour))}, "occurredAt"},
		{"4 minutes ahead", Input{Amount: decimal.NewFromInt(1), OccurredAt: ptr(now.Add(4 * time.Minute))}, ""},
		{"empty key", Input{Amount: decimal.NewFromInt(1), IdempotencyKey: str("")}, "idempotencyKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.normalize(now)
			var got string
			if err != nil {
				got = fieldOf(t, err)
			}
			if got != tt.field {
				t.Fatalf("field: got %q (%v), want %q", got, err, tt.field)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	e, ok := err.(*apperr.Error)
	if !ok || e.Code != apperr.BadInput || e.Field == "" {
		t.Fatalf("error %v is not a BAD_USER_INPUT naming its field", err)
	}
	return e.Field
}

// FuzzNormalize: any input is either refused with a named field or comes out
// within every documented bound — never a panic.
func FuzzNormalize(f *testing.F) {
	f.Add("12000", "CNY", "m-1", "fp-1", "203.0.113.7", 31.2, 121.4, int64(0), "key")
	f.Add("0.001", "", "", "", "::1", 91.0, 0.0, int64(-3000000), "")
	f.Add("-1e400", "xx", "m\x00", "\xff", "1.2.3.4.5", math.Inf(1), math.NaN(), int64(400), strings.Repeat("k", 300))
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, amount, cur, merchant, device, ip string, lat, lon float64, offsetSec int64, key string) {
		d, err := scalar.ParseDecimal(amount)
		if err != nil {
			return // the Decimal scalar refuses these before normalize sees them
		}
		at := now.Add(time.Duration(offsetSec) * time.Second)
		in := Input{Amount: d, Currency: cur, MerchantID: &merchant, DeviceID: &device, IPAddress: &ip,
			Location: &domain.Location{Latitude: lat, Longitude: lon}, OccurredAt: &at, IdempotencyKey: &key}
		if err := in.normalize(now); err != nil {
			fieldOf(t, err)
			return
		}
		switch {
		case !in.Amount.IsPositive() || in.Amount.GreaterThan(maxAmount) || !in.Amount.Equal(in.Amount.Truncate(2)):
			t.Fatalf("amount %s accepted", in.Amount)
		case len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency:
			t.Fatalf("currency %q accepted", in.Currency)
		case len(*in.MerchantID) == 0 || len(*in.MerchantID) > maxIDLen || len(*in.DeviceID) > maxIDLen:
			t.Fatalf("identifier accepted: %q %q", *in.MerchantID, *in.DeviceID)
		case math.IsNaN(lat) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180:
			t.Fatalf("location %v,%v accepted", lat, lon)
		case in.OccurredAt.Before(now.Add(-MaxBackfill)) || in.OccurredAt.After(now.Add(MaxClockSkew)):
			t.Fatalf("occurredAt %v accepted", in.OccurredAt)
		case len(*in.IdempotencyKey) == 0 || len(*in.IdempotencyKey) > maxKeyLen:
			t.Fatalf("idempotency key of %d bytes accepted", len(*in.IdempotencyKey))
		}
		_ = in.hash(1)
	})
}
