package datasource

import (
	"context"
	"math"
	"time"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

const (
	day = 24 * time.Hour
	// maxQualitySpan bounds a report's period.
	maxQualitySpan = 366 * day
	// baselineDays is how many days before a day its count is compared with.
	baselineDays = 7
	// anomalyZ is how many standard deviations from the baseline mean make an anomaly.
	anomalyZ = 3
)

// Quality reports on the transactions in [from, to) of one source, or of all
// when sourceID is nil: completeness of the optional fields, freshness of each
// source, volume per UTC day and the days whose volume is anomalous.
func (s *Service) Quality(ctx context.Context, sourceID *int64, from, to time.Time) (*domain.DataQuality, error) {
	if !from.Before(to) {
		return nil, apperr.Invalid("to", "must be after from")
	}
	if to.Sub(from) > maxQualitySpan {
		return nil, apperr.Invalid("to", "the period may span at most 366 days")
	}
	freshness, err := store.SourceFreshness(ctx, s.db, sourceID)
	if err != nil {
		return nil, err
	}
	if sourceID != nil && len(freshness) == 0 {
		return nil, apperr.ErrNotFound
	}
	now := s.now()
	for _, f := range freshness {
		if f.NewestAt != nil {
			age := now.Sub(*f.NewestAt).Seconds()
			f.AgeSeconds = &age
		}
	}

	// UTC days are 24 hours and Go truncates from its zero time, a UTC midnight.
	firstDay := from.UTC().Truncate(day)
	days, err := store.TransactionQuality(ctx, s.db, sourceID, firstDay.Add(-baselineDays*day), from, to)
	if err != nil {
		return nil, err
	}
	oldest, err := store.FirstOccurredAt(ctx, s.db, sourceID)
	if err != nil {
		return nil, err
	}

	c := &domain.Completeness{}
	dayCount := make(map[int64]int, len(days)) // by the day's Unix time
	inRange := make(map[int64]int, len(days))
	for _, d := range days {
		dayCount[d.Day.Unix()] = d.Count
		inRange[d.Day.Unix()] = d.InRange
		c.Total += d.InRange
		c.MissingDevice += d.MissingDevice
		c.MissingIP += d.MissingIP
		c.MissingLocation += d.MissingLocation
		c.MissingMerchant += d.MissingMerchant
	}
	c.Score = 1 // nothing is missing from nothing
	if c.Total > 0 {
		missing := c.MissingDevice + c.MissingIP + c.MissingLocation + c.MissingMerchant
		c.Score = 1 - float64(missing)/float64(4*c.Total)
	}

	q := &domain.DataQuality{
		SourceID: sourceID, From: from, To: to, Completeness: c, Freshness: freshness,
		Volume: []*domain.DayVolume{}, Anomalies: []*domain.VolumeAnomaly{},
	}
	for d := firstDay; d.Before(to); d = d.Add(day) {
		q.Volume = append(q.Volume, &domain.DayVolume{Day: d, Count: inRange[d.Unix()]})
		// Only whole days are judged: a partial one would look like a drop.
		// And only with seven days of history, or a new feed's first week would spike.
		if d.Before(from) || d.Add(day).After(to) || oldest == nil || oldest.UTC().Truncate(day).After(d.Add(-baselineDays*day)) {
			continue
		}
		if a := anomaly(d, dayCount); a != nil {
			q.Anomalies = append(q.Anomalies, a)
		}
	}
	return q, nil
}

// anomaly compares day d's count with the mean of the seven days before it,
// nil when it lies within 3σ (population). σ is floored at 1 so a flat
// baseline still gives finite z-scores; StdDev reports the σ used.
func anomaly(d time.Time, dayCount map[int64]int) *domain.VolumeAnomaly {
	var baseline [baselineDays]float64
	var mean float64
	for i := range baseline {
		baseline[i] = float64(dayCount[d.Add(-time.Duration(i+1)*day).Unix()])
		mean += baseline[i]
	}
	mean /= baselineDays
	var variance float64
	for _, n := range baseline {
		variance += (n - mean) * (n - mean)
	}
	sd := max(math.Sqrt(variance/baselineDays), 1)
	count := dayCount[d.Unix()]
	z := (float64(count) - mean) / sd
	if math.Abs(z) <= anomalyZ {
		return nil
	}
	direction := "SPIKE"
	if z < 0 {
		direction = "DROP"
	}
	return &domain.VolumeAnomaly{Day: d, Count: count, Mean: mean, StdDev: sd, ZScore: z, Direction: direction}
}
