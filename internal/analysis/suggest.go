package analysis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// The suggested actions.
const (
	actionBlacklistDevice = "BLACKLIST_DEVICE"
	actionFreezeUser      = "FREEZE_USER"
	actionVerifyWithUser  = "VERIFY_WITH_USER"
	actionInspectDevice   = "INSPECT_DEVICE"
	actionReviewRecent    = "REVIEW_RECENT_TRANSACTIONS"
	actionReviewLinked    = "REVIEW_LINKED_USERS"
	actionFalsePositive   = "MARK_FALSE_POSITIVE"
	actionInvestigate     = "INVESTIGATE"
)

// Their priorities, higher first: acting on a device or an account stops
// further loss, so it outranks verifying and reviewing.
const (
	priorityBlacklist     = 100
	priorityFreeze        = 90
	priorityVerify        = 70
	priorityInspect       = 60
	priorityReviewRecent  = 50
	priorityReviewLinked  = 40
	priorityFalsePositive = 10
	priorityInvestigate   = 1
)

// The rule types suggestions react to; a rule's type, unlike its name, says what it checks.
const (
	ruleAmount    = "AMOUNT"
	ruleVelocity  = "VELOCITY"
	ruleGeo       = "GEO"
	ruleBlacklist = "BLACKLIST"
)

const (
	// freezeProfileScore is the profile score (HIGH) from which freezing the user is suggested.
	freezeProfileScore = 80
	// longCustomer is the account age from which a customer counts as long-standing.
	longCustomer = 180 * 24 * time.Hour
	// linkedValuesShown is how many shared devices and IPs the linked-users reason names.
	linkedValuesShown = 3
)

// features is the part of a detection's feature snapshot that suggestions quote.
type features struct {
	User struct {
		TxCount10m int `json:"txCount10m"`
		TxCount24h int `json:"txCount24h"`
	} `json:"user"`
	Geo geoFeatures `json:"geo"`
}

type geoFeatures struct {
	City           string  `json:"city"`
	Country        string  `json:"country"`
	PrevCountry    string  `json:"prevCountry"`
	DistanceKm     float64 `json:"distanceKm"`
	ElapsedMinutes float64 `json:"elapsedMinutes"`
}

// Suggestions proposes how to handle a risk event, highest priority first,
// each with the figures behind it, from the event's matched rules and feature
// snapshot, its device, the user's risk profile and the users linked to them.
// There is always at least one: INVESTIGATE when nothing specific applies.
// A missing event is apperr.ErrNotFound.
func (s *Service) Suggestions(ctx context.Context, eventID int64) ([]*domain.Suggestion, error) {
	f, err := store.RiskEventFacts(ctx, s.db, eventID)
	if err != nil {
		return nil, err
	}
	profile, err := s.RiskProfile(ctx, f.UserID)
	if err != nil {
		return nil, err
	}
	linked, err := s.RelatedUsers(ctx, f.UserID, 1)
	if err != nil {
		return nil, err
	}
	var feat features
	if len(f.Features) > 0 {
		if err := json.Unmarshal(f.Features, &feat); err != nil {
			return nil, fmt.Errorf("analysis: features of event %d: %w", eventID, err)
		}
	}
	matched := map[string]bool{}
	for _, m := range f.MatchedRules {
		matched[m.Type] = true
	}
	var out []*domain.Suggestion
	for _, sg := range []*domain.Suggestion{
		deviceSuggestion(f, matched),
		freezeSuggestion(f, matched, profile),
		travelSuggestion(matched, feat.Geo),
		velocitySuggestion(matched, feat.User.TxCount10m, feat.User.TxCount24h),
		linkedSuggestion(linked),
		falsePositiveSuggestion(f, matched, profile, s.now()),
	} {
		if sg != nil {
			out = append(out, sg)
		}
	}
	if len(out) == 0 {
		out = append(out, &domain.Suggestion{Action: actionInvestigate, Priority: priorityInvestigate,
			Reason: "no specific pattern: review the transaction and the user's recent activity"})
	}
	slices.SortStableFunc(out, func(a, b *domain.Suggestion) int { return cmp.Compare(b.Priority, a.Priority) })
	return out, nil
}

// deviceSuggestion: blacklist a device shared with a confirmed fraudster (or
// one un-blacklisted since it got this transaction rejected); inspect an abnormal one.
func deviceSuggestion(f *store.EventFacts, matched map[string]bool) *domain.Suggestion {
	if f.DeviceID == nil {
		return nil
	}
	fp, status := *f.DeviceFingerprint, *f.DeviceStatus
	switch {
	case status == domain.DeviceBlacklisted:
		return nil // nothing left to do to the device
	case f.DeviceUsers > 1 && f.DeviceFraudUsers > 0:
		return &domain.Suggestion{Action: actionBlacklistDevice, Priority: priorityBlacklist,
			Reason: fmt.Sprintf("device %s is shared with %d users, %d with confirmed fraud", fp, f.DeviceUsers, f.DeviceFraudUsers)}
	case matched[ruleBlacklist]:
		return &domain.Suggestion{Action: actionBlacklistDevice, Priority: priorityBlacklist,
			Reason: fmt.Sprintf("device %s was blacklisted when this transaction was rejected but is %s now", fp, status)}
	case status == domain.DeviceAbnormal:
		return &domain.Suggestion{Action: actionInspectDevice, Priority: priorityInspect,
			Reason: fmt.Sprintf("device %s is marked ABNORMAL and has been used by %s", fp, plural(f.DeviceUsers, "user", "users"))}
	}
	return nil
}

// freezeSuggestion: freeze an active user with other confirmed fraud, a HIGH
// profile, or a transaction from a blacklisted device.
func freezeSuggestion(f *store.EventFacts, matched map[string]bool, p *domain.RiskProfile) *domain.Suggestion {
	if f.UserStatus != domain.UserActive {
		return nil // already frozen or disabled
	}
	var why []string
	if f.OtherFraud > 0 {
		why = append(why, "the user has "+plural(f.OtherFraud, "other risk event", "other risk events")+" confirmed as fraud")
	}
	if p.Score >= freezeProfileScore {
		why = append(why, fmt.Sprintf("risk profile score %d (%s)", p.Score, p.Level))
	}
	if matched[ruleBlacklist] && f.DeviceStatus != nil && *f.DeviceStatus == domain.DeviceBlacklisted {
		why = append(why, "the transaction came from blacklisted device "+*f.DeviceFingerprint)
	}
	if len(why) == 0 {
		return nil
	}
	return &domain.Suggestion{Action: actionFreezeUser, Priority: priorityFreeze, Reason: strings.Join(why, "; ")}
}

// travelSuggestion: impossible travel is often a stolen session; the user can say.
func travelSuggestion(matched map[string]bool, g geoFeatures) *domain.Suggestion {
	if !matched[ruleGeo] {
		return nil
	}
	return &domain.Suggestion{Action: actionVerifyWithUser, Priority: priorityVerify,
		Reason: fmt.Sprintf("%s → %s, %s km in %s min",
			place("", g.PrevCountry, "the previous location"), place(g.City, g.Country, "the new location"),
			thousands(g.DistanceKm), thousands(g.ElapsedMinutes))}
}

// velocitySuggestion: a burst is reviewed as a whole, not one transaction at a time.
func velocitySuggestion(matched map[string]bool, count10m, count24h int) *domain.Suggestion {
	if !matched[ruleVelocity] {
		return nil
	}
	return &domain.Suggestion{Action: actionReviewRecent, Priority: priorityReviewRecent,
		Reason: fmt.Sprintf("%s in 10 minutes (%d in 24 hours)", plural(count10m, "transaction", "transactions"), count24h)}
}

// linkedSuggestion names the devices and IPs shared with the most linked users.
func linkedSuggestion(linked []*domain.RelatedUser) *domain.Suggestion {
	if len(linked) == 0 {
		return nil
	}
	users := map[string]int{} // "device fp" or "IP addr" → linked users sharing it
	for _, ru := range linked {
		for _, e := range ru.Evidence {
			label := "IP " + e.Value
			if e.Kind == domain.LinkDevice {
				label = "device " + e.Value
			}
			users[label]++
		}
	}
	labels := make([]string, 0, len(users))
	for l := range users {
		labels = append(labels, l)
	}
	slices.SortFunc(labels, func(a, b string) int { return cmp.Or(cmp.Compare(users[b], users[a]), cmp.Compare(a, b)) })
	var via []string
	for _, l := range labels[:min(len(labels), linkedValuesShown)] {
		via = append(via, fmt.Sprintf("%s (%d)", l, users[l]))
	}
	if rest := len(labels) - len(via); rest > 0 {
		via = append(via, fmt.Sprintf("%d more", rest))
	}
	who := plural(len(linked), "linked user", "linked users")
	if len(linked) == MaxRelated {
		who = "at least " + who
	}
	return &domain.Suggestion{Action: actionReviewLinked, Priority: priorityReviewLinked,
		Reason: who + " via " + strings.Join(via, ", ")}
}

// falsePositiveSuggestion: a large amount alone, from a VIP or long-standing
// customer with a LOW profile who never raised an event before and shares no
// device with a fraudster, is most likely legitimate.
func falsePositiveSuggestion(f *store.EventFacts, matched map[string]bool, p *domain.RiskProfile, now time.Time) *domain.Suggestion {
	if len(matched) != 1 || !matched[ruleAmount] || f.OtherEvents > 0 || f.DeviceFraudUsers > 0 || p.Level != domain.RiskLow {
		return nil
	}
	var who string
	switch age := now.Sub(f.UserCreatedAt); {
	case f.UserRole == domain.RoleVIP:
		who = "a VIP customer"
	case age >= longCustomer:
		who = fmt.Sprintf("a customer for %d days", int(age.Hours()/24))
	default:
		return nil
	}
	return &domain.Suggestion{Action: actionFalsePositive, Priority: priorityFalsePositive,
		Reason: "only the large-amount rule matched, for " + who + " with no other risk events"}
}

// place names a location as precisely as known: "Berlin, DE", "DE" or unknown.
func place(city, country, unknown string) string {
	switch {
	case city != "" && country != "":
		return city + ", " + country
	case city != "":
		return city
	case country != "":
		return country
	}
	return unknown
}

// thousands rounds x and groups its digits: 8400.4 → "8,400".
func thousands(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && s[i-1] != '-' && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
