package analysis_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// summarize renders a profile with every figure exact; times are hours before the clock.
func summarize(p *domain.RiskProfile) []string {
	var out []string
	for _, w := range p.Windows {
		out = append(out, fmt.Sprintf("window %s: %d / %s", w.Window, w.Count, w.Volume.StringFixed(2)))
	}
	out = append(out,
		fmt.Sprintf("average %s, max %s", p.AverageAmount.StringFixed(2), p.MaxAmount.StringFixed(2)),
		fmt.Sprintf("detections low %d, medium %d, high %d", p.Detections.Low, p.Detections.Medium, p.Detections.High))
	for _, kc := range p.EventsByStatus {
		out = append(out, fmt.Sprintf("events %s: %d", kc.Key, kc.Count))
	}
	out = append(out, fmt.Sprintf("confirmed fraud %d, devices %d, countries %d", p.ConfirmedFraud, p.DistinctDevices, p.DistinctCountries))
	if p.LastLoginAt != nil {
		out = append(out, fmt.Sprintf("last login -%gh", clock.Sub(*p.LastLoginAt).Hours()))
	}
	if l := p.LastLoginLocation; l != nil {
		out = append(out, fmt.Sprintf("last location %s, %s (%g, %g)", *l.City, *l.Country, l.Latitude, l.Longitude))
	}
	for _, r := range p.Reasons {
		out = append(out, fmt.Sprintf("reason %s +%d: %s", r.Factor, r.Points, r.Detail))
	}
	return append(out, fmt.Sprintf("score %d %s", p.Score, p.Level))
}

func located(country, city string, lat, lon float64) func(*domain.LoginLog) {
	return func(l *domain.LoginLog) { l.Country, l.City, l.Latitude, l.Longitude = &country, &city, &lat, &lon }
}

func inCountry(country string) func(*domain.Transaction) {
	return func(t *domain.Transaction) { t.Country = &country }
}

func TestRiskProfile(t *testing.T) {
	f := newFixture(t)

	// seasoned: four transactions, one outside every window; detections of
	// each level (a HIGH one outside 30 days); one event confirmed, one closed
	// after confirmation, one closed as a false positive, one open.
	seasoned := f.user("seasoned")
	tx1 := f.tx(seasoned, "100.50", ago(time.Hour), inCountry("CN"))
	tx2 := f.tx(seasoned, "2000.00", ago(3*day), inCountry("DE"))
	tx3 := f.tx(seasoned, "12000.25", ago(20*day), inCountry("DE"))
	tx4 := f.tx(seasoned, "50000.00", ago(40*day), inCountry("US"))
	f.detect(seasoned, tx1, domain.RiskHigh, ago(time.Hour), nil, nil)
	f.detect(seasoned, tx2, domain.RiskMedium, ago(3*day), nil, nil)
	f.detect(seasoned, tx3, domain.RiskLow, ago(20*day), nil, nil)
	f.detect(seasoned, tx4, domain.RiskHigh, ago(40*day), nil, nil)
	f.event(seasoned, tx3, domain.EventConfirmedFraud, domain.EventOpen, domain.EventInvestigating)
	f.event(seasoned, tx4, domain.EventClosed, domain.EventOpen, domain.EventInvestigating, domain.EventConfirmedFraud)
	f.event(seasoned, tx1, domain.EventClosed, domain.EventOpen, domain.EventInvestigating, domain.EventFalsePositive)
	f.event(seasoned, tx2, domain.EventOpen)
	f.login(seasoned, "198.51.100.1", ago(2*time.Hour), true, located("CN", "Shanghai", 31.23, 121.47))
	f.login(seasoned, "198.51.100.2", ago(time.Hour), false, located("BR", "São Paulo", -23.55, -46.63))
	f.login(seasoned, "198.51.100.3", ago(10*day), true, located("JP", "Tokyo", 35.68, 139.69))
	f.login(seasoned, "198.51.100.4", ago(50*day), true, located("FR", "Paris", 48.86, 2.35))
	own, shared := f.device("fp-own", domain.DeviceNormal), f.device("fp-shared", domain.DeviceNormal)
	f.useDevice(seasoned, own, ago(100*day), ago(time.Hour))
	f.useDevice(seasoned, shared, ago(100*day), ago(time.Hour))

	// neighbor shares seasoned's device and has a confirmed fraud.
	neighbor := f.user("neighbor")
	f.useDevice(neighbor, shared, ago(5*day), ago(5*day))
	f.event(neighbor, f.tx(neighbor, "50.00", ago(5*day)), domain.EventConfirmedFraud)

	// fresh: two days old and frozen, nothing else.
	fresh := f.user("fresh", func(u *domain.User) { u.CreatedAt, u.Status = ago(2*day), domain.UserFrozen })

	// capped: one day old, disabled, three HIGH detections and a confirmed fraud: 50+30+20+5 = 105.
	capped := f.user("capped", func(u *domain.User) { u.CreatedAt, u.Status = ago(day), domain.UserDisabled })
	for i := 1; i <= 3; i++ {
		id := f.tx(capped, "10.00", ago(time.Duration(i)*time.Hour))
		f.detect(capped, id, domain.RiskHigh, ago(time.Duration(i)*time.Hour), nil, nil)
		if i == 1 {
			f.event(capped, id, domain.EventConfirmedFraud)
		}
	}

	quiet := f.user("quiet")

	tests := []struct {
		name   string
		userID int64
		want   []string
	}{
		{
			name: "seasoned", userID: seasoned,
			want: []string{
				"window 24h: 1 / 100.50",
				"window 7d: 2 / 2100.50",
				"window 30d: 3 / 14100.75",
				"average 4700.25, max 12000.25",
				"detections low 1, medium 1, high 1",
				"events CLOSED: 2",
				"events CONFIRMED_FRAUD: 1",
				"events OPEN: 1",
				"confirmed fraud 2, devices 2, countries 3",
				"last login -2h",
				"last location Shanghai, CN (31.23, 121.47)",
				"reason CONFIRMED_FRAUD +50: 2 risk events confirmed as fraud",
				"reason HIGH_DETECTIONS +15: 1 HIGH detection in the last 30 days",
				"reason MEDIUM_DETECTIONS +5: 1 MEDIUM detection in the last 30 days",
				"reason SHARED_DEVICES +10: 1 device also used by other users",
				"reason MANY_COUNTRIES +10: 3 countries in the last 30 days",
				"score 90 HIGH",
			},
		},
		{
			name: "neighbor", userID: neighbor,
			want: []string{
				"window 24h: 0 / 0.00",
				"window 7d: 1 / 50.00",
				"window 30d: 1 / 50.00",
				"average 50.00, max 50.00",
				"detections low 0, medium 0, high 0",
				"events CONFIRMED_FRAUD: 1",
				"confirmed fraud 1, devices 1, countries 0",
				"reason CONFIRMED_FRAUD +50: 1 risk event confirmed as fraud",
				"reason SHARED_DEVICES +10: 1 device also used by other users",
				"score 60 MEDIUM",
			},
		},
		{
			name: "fresh", userID: fresh,
			want: []string{
				"window 24h: 0 / 0.00",
				"window 7d: 0 / 0.00",
				"window 30d: 0 / 0.00",
				"average 0.00, max 0.00",
				"detections low 0, medium 0, high 0",
				"confirmed fraud 0, devices 0, countries 0",
				"reason ACCOUNT_RESTRICTED +20: the account is FROZEN",
				"reason NEW_ACCOUNT +5: the account is 2 days old",
				"score 25 LOW",
			},
		},
		{
			name: "capped", userID: capped,
			want: []string{
				"window 24h: 3 / 30.00",
				"window 7d: 3 / 30.00",
				"window 30d: 3 / 30.00",
				"average 10.00, max 10.00",
				"detections low 0, medium 0, high 3",
				"events CONFIRMED_FRAUD: 1",
				"confirmed fraud 1, devices 0, countries 0",
				"reason CONFIRMED_FRAUD +50: 1 risk event confirmed as fraud",
				"reason HIGH_DETECTIONS +30: 3 HIGH detections in the last 30 days",
				"reason ACCOUNT_RESTRICTED +20: the account is DISABLED",
				"reason NEW_ACCOUNT +5: the account is 1 day old",
				"score 100 HIGH",
			},
		},
		{
			name: "quiet", userID: quiet,
			want: []string{
				"window 24h: 0 / 0.00",
				"window 7d: 0 / 0.00",
				"window 30d: 0 / 0.00",
				"average 0.00, max 0.00",
				"detections low 0, medium 0, high 0",
				"confirmed fraud 0, devices 0, countries 0",
				"score 0 LOW",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.RiskProfile(f.ctx, tt.userID)
			if err != nil {
				t.Fatalf("RiskProfile: %v", err)
			}
			if s := summarize(got); !slices.Equal(s, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", lines(s), lines(tt.want))
			}
			sum := 0
			for _, r := range got.Reasons {
				sum += r.Points
			}
			if want := min(sum, 100); got.Score != want {
				t.Errorf("score %d, want the reasons' sum %d capped at 100 = %d", got.Score, sum, want)
			}
		})
	}
}

func TestRiskProfileMissingUser(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.RiskProfile(f.ctx, 424242); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("got %v, want apperr.ErrNotFound", err)
	}
}
