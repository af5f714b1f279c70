package domain

import (
	"math"
	"strings"
	"testing"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

func TestLocationValidate(t *testing.T) {
	long := strings.Repeat("x", MaxPlaceLen+1)
	fits := strings.Repeat("x", MaxPlaceLen)
	for _, tt := range []struct {
		loc   Location
		field string // "" when valid
	}{
		{Location{Latitude: 31.2, Longitude: 121.5, Country: &fits, City: &fits}, ""},
		{Location{Latitude: -90, Longitude: 180}, ""},
		{Location{Latitude: 90.01}, "location.latitude"},
		{Location{Latitude: math.NaN()}, "location.latitude"},
		{Location{Longitude: -180.5}, "location.longitude"},
		{Location{Longitude: math.Inf(1)}, "location.longitude"},
		{Location{Country: &long}, "location.country"},
		{Location{City: &long}, "location.city"},
	} {
		err := tt.loc.Validate()
		var got string
		if e, ok := err.(*apperr.Error); ok {
			got = e.Field
		}
		if got != tt.field || (err == nil) != (tt.field == "") {
			t.Errorf("%+v: got %v, want field %q", tt.loc, err, tt.field)
		}
	}
}
