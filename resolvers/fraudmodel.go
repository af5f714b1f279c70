package resolvers

import (
	"context"

	"github.com/smartfinance/riskgraph/graph/model"
	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
)

// trainModel fills training defaults: the last 30 days, seed 1, the default L2.
func (r *Resolver) trainModel(ctx context.Context, input *model.TrainModelInput) (*domain.Model, error) {
	opts := fraudmodel.TrainOptions{Seed: 1}
	if input != nil {
		opts.From, opts.To, opts.L2 = deref(input.From), deref(input.To), deref(input.L2)
		if input.Seed != nil {
			if *input.Seed < 0 {
				return nil, apperr.Invalid("seed", "must not be negative")
			}
			opts.Seed = uint64(*input.Seed)
		}
	}
	return r.Training.Train(ctx, principal(ctx), opts)
}
