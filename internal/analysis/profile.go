package analysis

import (
	"context"
	"strconv"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// RiskProfile summarizes a user's activity as of now and scores it (see
// profileReasons). It reads everything in one round trip; a missing user is
// apperr.ErrNotFound.
func (s *Service) RiskProfile(ctx context.Context, userID int64) (*domain.RiskProfile, error) {
	now := s.now()
	f, err := store.UserRiskFacts(ctx, s.db, userID, now)
	if err != nil {
		return nil, err
	}
	p := &domain.RiskProfile{
		UserID: userID,
		Windows: []*domain.WindowStats{
			{Window: "24h", Count: f.Count24h, Volume: f.Volume24h},
			{Window: "7d", Count: f.Count7d, Volume: f.Volume7d},
			{Window: "30d", Count: f.Count30d, Volume: f.Volume30d},
		},
		AverageAmount:     f.Average30d,
		MaxAmount:         f.Max30d,
		Detections:        domain.LevelCount{Low: f.Low, Medium: f.Medium, High: f.High},
		EventsByStatus:    make([]*domain.KeyCount, len(f.EventStatuses)),
		ConfirmedFraud:    f.ConfirmedFraud,
		DistinctDevices:   f.Devices,
		DistinctCountries: f.Countries30d,
		LastLoginAt:       f.LastLoginAt,
		Reasons:           profileReasons(f, now),
	}
	for i, status := range f.EventStatuses {
		p.EventsByStatus[i] = &domain.KeyCount{Key: status, Count: f.EventCounts[i]}
	}
	if f.LastLatitude != nil && f.LastLongitude != nil {
		p.LastLoginLocation = &domain.Location{Latitude: *f.LastLatitude, Longitude: *f.LastLongitude, Country: f.LastCountry, City: f.LastCity}
	}
	for _, r := range p.Reasons {
		p.Score += r.Points
	}
	p.Score = min(p.Score, 100)
	p.Level = levelOf(p.Score)
	return p, nil
}

// profileReasons applies the scoring table; every factor that applies is a reason:
//
//	factor              points                   when
//	CONFIRMED_FRAUD     +50                      any of the user's events is or was confirmed fraud
//	HIGH_DETECTIONS     +15 each, at most +30    HIGH detections in the last 30 days
//	MEDIUM_DETECTIONS   +5 each, at most +15     MEDIUM detections in the last 30 days
//	SHARED_DEVICES      +10 each, at most +20    devices other users have used too
//	MANY_COUNTRIES      +10                      3 or more countries in the last 30 days
//	ACCOUNT_RESTRICTED  +20                      the account is FROZEN or DISABLED
//	NEW_ACCOUNT         +5                       the account is younger than 7 days
//
// The profile score is their sum capped at 100, graded like a detection.
func profileReasons(f *store.RiskFacts, now time.Time) []*domain.ProfileReason {
	reasons := []*domain.ProfileReason{}
	add := func(factor string, points int, detail string) {
		reasons = append(reasons, &domain.ProfileReason{Factor: factor, Points: points, Detail: detail})
	}
	if f.ConfirmedFraud > 0 {
		add("CONFIRMED_FRAUD", 50, plural(f.ConfirmedFraud, "risk event", "risk events")+" confirmed as fraud")
	}
	if f.High > 0 {
		add("HIGH_DETECTIONS", min(15*f.High, 30), plural(f.High, "HIGH detection", "HIGH detections")+" in the last 30 days")
	}
	if f.Medium > 0 {
		add("MEDIUM_DETECTIONS", min(5*f.Medium, 15), plural(f.Medium, "MEDIUM detection", "MEDIUM detections")+" in the last 30 days")
	}
	if f.SharedDevices > 0 {
		add("SHARED_DEVICES", min(10*f.SharedDevices, 20), plural(f.SharedDevices, "device", "devices")+" also used by other users")
	}
	if f.Countries30d >= 3 {
		add("MANY_COUNTRIES", 10, plural(f.Countries30d, "country", "countries")+" in the last 30 days")
	}
	if f.Status == domain.UserFrozen || f.Status == domain.UserDisabled {
		add("ACCOUNT_RESTRICTED", 20, "the account is "+string(f.Status))
	}
	if age := now.Sub(f.CreatedAt); age < 7*24*time.Hour {
		add("NEW_ACCOUNT", 5, "the account is "+plural(int(age.Hours()/24), "day", "days")+" old")
	}
	return reasons
}

// levelOf grades a score with the detection thresholds: LOW 0–39, MEDIUM 40–79, HIGH 80+.
func levelOf(score int) domain.RiskLevel {
	switch {
	case score >= 80:
		return domain.RiskHigh
	case score >= 40:
		return domain.RiskMedium
	}
	return domain.RiskLow
}

// plural counts a noun: "1 device", "2 devices".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
