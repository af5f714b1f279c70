package account

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/engine"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// LoginRules supplies the compiled LOGIN rules and takes their hit statistics.
type LoginRules interface {
	CurrentLogin() *engine.RuleSet
	RecordHits(matches []engine.Match, at time.Time)
}

// AlertNotifier queues an alert for delivery at commit.
type AlertNotifier func(ctx context.Context, tx bun.IDB, a *domain.Alert) error

// LoginRisk wires login scoring: without it (nil Rules) logins are not scored.
type LoginRisk struct {
	Rules  LoginRules
	Config engine.Config
	Notify AlertNotifier
	// Lists supplies the lists LOGIN rules read with inList (the login's
	// ipAddress, device.id…); nil means none.
	Lists interface{ Current() *engine.ListSet }
}

// UseLoginRisk makes successful and recorded logins scored by the LOGIN rules.
func (s *Service) UseLoginRisk(r LoginRisk) { s.loginRisk = r }

// scoreLogin scores a successful login about to be stored as entry (inside
// tx, before its device is linked to the user, so an unknown device is
// still unknown) and fills entry's detection. Only successful logins are
// scored: a failed one answers exactly as before, whatever the rules say.
// The cost is one feature read (single index probes) and microseconds of
// rule evaluation, inside the login's own transaction.
func (s *Service) scoreLogin(ctx context.Context, tx bun.IDB, u *domain.User, entry *domain.LoginLog, at time.Time) ([]engine.Match, error) {
	if s.loginRisk.Rules == nil {
		return nil, nil
	}
	fp := ""
	if entry.DeviceFingerprint != nil {
		fp = *entry.DeviceFingerprint
	}
	row, err := store.LoginFeatures(ctx, tx, u.ID, at, fp)
	if err != nil {
		return nil, err
	}
	f := &engine.Features{IPAddress: entry.IPAddress, User: engine.UserFeatures{CreatedAt: u.CreatedAt, Role: string(u.Role)}}
	if s.loginRisk.Lists != nil {
		f.Lists = s.loginRisk.Lists.Current()
	}
	if fp != "" {
		f.Device = engine.DeviceFeatures{ID: fp, New: row.UserDeviceFirst == nil, UserCount: 1, UserCount24h: 1, UserCount7d: 1,
			Status: string(domain.DeviceNormal), FirstSeen: at, UserFirstSeen: deref(row.UserDeviceFirst)}
		if row.DeviceStatus != nil {
			f.Device.Status = *row.DeviceStatus
		}
		if row.DeviceFirst != nil && row.DeviceFirst.Before(at) {
			f.Device.FirstSeen = *row.DeviceFirst
		}
	}
	if row.PrevLat != nil && row.PrevLon != nil && row.PrevAt != nil {
		f.Geo.HasPrevious, f.Geo.PrevLatitude, f.Geo.PrevLongitude, f.Geo.PrevAt = true, *row.PrevLat, *row.PrevLon, *row.PrevAt
		f.Geo.PrevCountry = deref(row.PrevCountry)
	}
	if entry.Latitude != nil && entry.Longitude != nil {
		f.Geo.Present, f.Geo.Latitude, f.Geo.Longitude = true, *entry.Latitude, *entry.Longitude
		f.Geo.Country, f.Geo.City = deref(entry.Country), deref(entry.City)
	}
	f.Derive(at)
	r, err := engine.Score(ctx, s.loginRisk.Rules.CurrentLogin(), f, nil, s.loginRisk.Config)
	if err != nil {
		return nil, err
	}
	level := domain.RiskLevel(r.Level)
	entry.RiskScore, entry.RiskLevel = &r.RiskScore, &level
	entry.MatchedRules = make([]domain.MatchedRule, len(r.Matched))
	for i, m := range r.Matched {
		entry.MatchedRules[i] = domain.MatchedRule{RuleID: m.RuleID, Name: m.Name, Version: m.Version, Score: m.Score,
			Type: m.Type, Action: domain.RuleAction(m.Action), Reason: m.Reason}
	}
	return append(r.Matched, r.Shadow...), nil
}

// openLoginEvent opens, for a stored MEDIUM or HIGH login, a LOGIN risk
// event with its timeline and alert, and queues the alert's delivery at
// commit, as a payment's detection does.
func (s *Service) openLoginEvent(ctx context.Context, tx bun.IDB, u *domain.User, entry *domain.LoginLog) error {
	if entry.RiskLevel == nil || entry.RiskLevel.Rank() < domain.RiskMedium.Rank() {
		return nil
	}
	names := make([]string, len(entry.MatchedRules))
	for i, m := range entry.MatchedRules {
		names[i] = m.Name
	}
	eventType := "LOGIN"
	if len(entry.MatchedRules) > 0 {
		eventType = entry.MatchedRules[0].Type
	}
	level, score := *entry.RiskLevel, *entry.RiskScore
	title := fmt.Sprintf("%s login risk: %s", level, strings.Join(names, ", "))
	if len(names) == 0 {
		title = fmt.Sprintf("%s login risk score %.2f", level, score)
	}
	where := "an unknown place"
	if loc := entry.Location(); loc != nil {
		where = strings.TrimSpace(deref(loc.City) + " " + deref(loc.Country))
	}
	ev := &domain.RiskEvent{UserID: u.ID, Kind: domain.EventLogin, LoginLogID: &entry.ID, Type: eventType, Level: level,
		Status: domain.EventOpen, RiskScore: score, Title: title,
		Description: fmt.Sprintf("login by %s from %s: %s", u.Username, where, strings.Join(names, "; "))}
	if err := store.InsertRiskEvent(ctx, tx, ev); err != nil {
		return err
	}
	a := &domain.Alert{EventID: ev.ID, UserID: u.ID, Level: level, Status: domain.AlertNew, Title: title,
		Message: fmt.Sprintf("%s login by %s from %s", level, u.Username, where)}
	if err := store.InsertAlert(ctx, tx, a); err != nil {
		return err
	}
	detected, err := json.Marshal(map[string]any{"riskScore": score, "matchedRules": names, "loginLogId": entry.ID})
	if err != nil {
		return err
	}
	raised, err := json.Marshal(map[string]any{"level": level, "alertId": a.ID})
	if err != nil {
		return err
	}
	if err := store.InsertTimeline(ctx, tx,
		&domain.TimelineEntry{EventID: ev.ID, Kind: domain.TimelineDetection, Action: "DETECTED", ToStatus: ptr(string(ev.Status)), Note: ev.Description, Details: detected},
		&domain.TimelineEntry{EventID: ev.ID, Kind: domain.TimelineAlert, Action: "ALERT_RAISED", ToStatus: ptr(string(a.Status)), Note: title, Details: raised}); err != nil {
		return err
	}
	if s.loginRisk.Notify == nil {
		return nil
	}
	return s.loginRisk.Notify(ctx, tx, a)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
