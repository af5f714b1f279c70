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

var (
	largeAmount      = domain.MatchedRule{Name: "large amount", Type: "AMOUNT", Score: 50, Action: domain.RuleScoreAction}
	highVelocity     = domain.MatchedRule{Name: "high velocity", Type: "VELOCITY", Score: 30, Action: domain.RuleScoreAction}
	impossibleTravel = domain.MatchedRule{Name: "impossible travel", Type: "GEO", Score: 40, Action: domain.RuleScoreAction}
	abnormalDevice   = domain.MatchedRule{Name: "abnormal device", Type: "DEVICE", Score: 20, Action: domain.RuleScoreAction}
	blacklisted      = domain.MatchedRule{Name: "blacklisted device", Type: "BLACKLIST", Score: 100, Action: domain.RuleReject}
	custom           = domain.MatchedRule{Name: "night owl", Type: "CUSTOM", Score: 40, Action: domain.RuleScoreAction}
)

// scored opens an event on a fresh transaction of user (on device, if not 0)
// whose MEDIUM detection matched rules with the given features.
func (f *fixture) scored(userID, deviceID int64, rules []domain.MatchedRule, features map[string]any) int64 {
	f.t.Helper()
	at := ago(time.Hour)
	id := f.tx(userID, "12000.00", at, func(t *domain.Transaction) {
		if deviceID != 0 {
			t.DeviceID = &deviceID
		}
	})
	f.detect(userID, id, domain.RiskMedium, at, rules, features)
	return f.event(userID, id, domain.EventOpen)
}

func TestSuggestions(t *testing.T) {
	f := newFixture(t)

	// Three users on one device, one of them a confirmed fraudster.
	s1, s2, s3 := f.user("s1"), f.user("s2"), f.user("s3")
	fraudDevice := f.device("fp-x", domain.DeviceNormal)
	for _, u := range []int64{s1, s2, s3} {
		f.useDevice(u, fraudDevice, ago(10*day), ago(2*time.Hour))
	}
	f.event(s3, f.tx(s3, "10.00", ago(5*day)), domain.EventConfirmedFraud)
	sharedFraud := f.scored(s1, fraudDevice, []domain.MatchedRule{largeAmount}, nil)

	traveler := f.user("traveler")
	travel := f.scored(traveler, 0, []domain.MatchedRule{impossibleTravel}, map[string]any{
		"geo": map[string]any{"city": "Berlin", "country": "DE", "prevCountry": "CN", "distanceKm": 8400.4, "elapsedMinutes": 30.0},
	})

	// A burst from a user whose earlier event was confirmed and then closed.
	repeat := f.user("repeat")
	f.event(repeat, f.tx(repeat, "10.00", ago(50*day)), domain.EventClosed, domain.EventConfirmedFraud)
	burst := f.scored(repeat, 0, []domain.MatchedRule{highVelocity}, map[string]any{
		"user": map[string]any{"txCount10m": 6, "txCount24h": 9},
	})

	vip := f.user("vip", func(u *domain.User) { u.Role, u.CreatedAt = domain.RoleVIP, ago(30*day) })
	vipLarge := f.scored(vip, 0, []domain.MatchedRule{largeAmount}, nil)

	veteran := f.user("veteran")
	veteranLarge := f.scored(veteran, 0, []domain.MatchedRule{largeAmount}, nil)

	newcomer := f.user("newcomer", func(u *domain.User) { u.CreatedAt = ago(30 * day) })
	newcomerLarge := f.scored(newcomer, 0, []domain.MatchedRule{largeAmount}, nil)

	odd := f.user("odd")
	oddDevice := f.device("fp-odd", domain.DeviceAbnormal)
	f.useDevice(odd, oddDevice, ago(day), ago(time.Hour))
	abnormal := f.scored(odd, oddDevice, []domain.MatchedRule{abnormalDevice}, nil)

	dark := f.user("dark")
	darkDevice := f.device("fp-black", domain.DeviceBlacklisted)
	f.useDevice(dark, darkDevice, ago(day), ago(time.Hour))
	rejected := f.scored(dark, darkDevice, []domain.MatchedRule{blacklisted}, nil)

	plain := f.user("plain")
	other := f.scored(plain, 0, []domain.MatchedRule{custom}, nil)

	tests := []struct {
		name    string
		eventID int64
		want    []string
	}{
		{
			name: "device shared with a confirmed fraudster", eventID: sharedFraud,
			want: []string{
				"100 BLACKLIST_DEVICE: device fp-x is shared with 3 users, 1 with confirmed fraud",
				"40 REVIEW_LINKED_USERS: 2 linked users via device fp-x (2)",
			},
		},
		{
			name: "impossible travel", eventID: travel,
			want: []string{"70 VERIFY_WITH_USER: CN → Berlin, DE, 8,400 km in 30 min"},
		},
		{
			name: "velocity after confirmed fraud", eventID: burst,
			want: []string{
				"90 FREEZE_USER: the user has 1 other risk event confirmed as fraud",
				"50 REVIEW_RECENT_TRANSACTIONS: 6 transactions in 10 minutes (9 in 24 hours)",
			},
		},
		{
			name: "large amount from a VIP", eventID: vipLarge,
			want: []string{"10 MARK_FALSE_POSITIVE: only the large-amount rule matched, for a VIP customer with no other risk events"},
		},
		{
			name: "large amount from a long-standing customer", eventID: veteranLarge,
			want: []string{"10 MARK_FALSE_POSITIVE: only the large-amount rule matched, for a customer for 400 days with no other risk events"},
		},
		{
			name: "large amount from a recent customer", eventID: newcomerLarge,
			want: []string{"1 INVESTIGATE: no specific pattern: review the transaction and the user's recent activity"},
		},
		{
			name: "abnormal device", eventID: abnormal,
			want: []string{"60 INSPECT_DEVICE: device fp-odd is marked ABNORMAL and has been used by 1 user"},
		},
		{
			name: "blacklisted device", eventID: rejected,
			want: []string{"90 FREEZE_USER: the transaction came from blacklisted device fp-black"},
		},
		{
			name: "nothing specific", eventID: other,
			want: []string{"1 INVESTIGATE: no specific pattern: review the transaction and the user's recent activity"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.svc.Suggestions(f.ctx, tt.eventID)
			if err != nil {
				t.Fatalf("Suggestions: %v", err)
			}
			var s []string
			for _, sg := range got {
				s = append(s, fmt.Sprintf("%d %s: %s", sg.Priority, sg.Action, sg.Reason))
			}
			if !slices.Equal(s, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", lines(s), lines(tt.want))
			}
		})
	}
}

func TestSuggestionsMissingEvent(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.Suggestions(f.ctx, 424242); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("got %v, want apperr.ErrNotFound", err)
	}
}
