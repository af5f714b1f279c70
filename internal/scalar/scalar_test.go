package scalar

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

var maxMoney = decimal.New(1, MaxIntegerDigits)

func TestDecimalBounds(t *testing.T) {
	tests := []struct {
		in   any
		want string // "" when refused
	}{
		{"12000", "12000"},
		{" 12000.50 ", "12000.5"},
		{"1.500", "1.5"},
		{"-0.01", "-0.01"},
		{".5", "0.5"},
		{"5.", "5"},
		{"1e3", "1000"},
		{"1.25E+2", "125"},
		{"125e-2", "1.25"},
		{"0e999", "0"},
		{"000000000000000000000000000001", "1"},
		{"999999999999999999.99", "999999999999999999.99"},
		{json.Number("42.1"), "42.1"},
		{int64(7), "7"},
		{12000.25, "12000.25"},
		{"1e999999999", ""},
		{"1e-999999999", ""},
		{"1e999", ""},
		{"1e18", ""},
		{"1000000000000000000", ""},
		{"-1000000000000000000", ""},
		{"0.001", ""},
		{"1e-3", ""},
		{"12.345e1", "123.45"},
		{1e300, ""},
		{json.Number("1e10000000"), ""},
		{int64(-9223372036854775808), ""},
		{"NaN", ""},
		{"Infinity", ""},
		{"0x10", ""},
		{"1_000", ""},
		{"", ""},
		{".", ""},
		{"e5", ""},
		{"1e", ""},
		{strings.Repeat("1", 65), ""},
		{true, ""},
	}
	for _, tt := range tests {
		got, err := UnmarshalDecimal(tt.in)
		if tt.want == "" {
			if apperr.CodeOf(err) != apperr.BadInput {
				t.Errorf("UnmarshalDecimal(%#v) = %v, %v; want BAD_USER_INPUT", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("UnmarshalDecimal(%#v) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseDecimal: any text is refused or yields a value within the money
// bounds and with a small exponent, agreeing with the decimal library.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"12000.00", "1e999999999", "-1e-999999999", "0.000e5", "9.99e17", "+.5", "1e+999", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadInput {
				t.Fatalf("ParseDecimal(%q): %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		// A bounded exponent keeps every later rescaling small: that, not the
		// parse, is what "1e999999999" made cost minutes.
		if e := d.Exponent(); e < -(maxDecimalLen+1000) || e > maxDecimalLen+1000 {
			t.Fatalf("ParseDecimal(%q) kept exponent %d", s, e)
		}
		if d.Abs().Cmp(maxMoney) >= 0 || !d.Equal(d.Truncate(MaxFractionDigits)) {
			t.Fatalf("ParseDecimal(%q) = %s is outside the money bounds", s, d)
		}
		if lib, err := decimal.NewFromString(s); err != nil || !lib.Equal(d) {
			t.Fatalf("ParseDecimal(%q) = %s; the decimal library reads %s, %v", s, d, lib, err)
		}
	})
}
