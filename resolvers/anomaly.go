package resolvers

import (
	"context"

	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/anomaly"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// trainAnomalyModel fills training defaults (anomaly.TrainOptions: the last
// 7 days, by channel, seed 1); a number given must be positive, since
// training reads 0 as "the default".
func (r *Resolver) trainAnomalyModel(ctx context.Context, input *model.TrainAnomalyModelInput) (*domain.AnomalyModel, error) {
	opts := anomaly.TrainOptions{Seed: 1}
	if input != nil {
		opts.From, opts.To, opts.SegmentBy = deref(input.From), deref(input.To), deref(input.SegmentBy)
		for _, n := range []struct {
			field string
			in    *int
			out   *int
		}{
			{"maxRows", input.MaxRows, &opts.MaxRows}, {"trees", input.Trees, &opts.Trees},
			{"sampleSize", input.SampleSize, &opts.SampleSize}, {"minSegmentRows", input.MinSegmentRows, &opts.MinSegmentRows},
		} {
			if n.in != nil && *n.in <= 0 {
				return nil, apperr.Invalid(n.field, "must be positive")
			}
			*n.out = deref(n.in)
		}
		if input.Seed != nil {
			if *input.Seed < 0 {
				return nil, apperr.Invalid("seed", "must not be negative")
			}
			opts.Seed = uint64(*input.Seed)
		}
	}
	return r.Anomaly.Train(ctx, principal(ctx), opts)
}
