package resolvers

import (
	"context"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// ruleByIDOrCode finds the rule a field names by its id or its code (R001):
// a code is usable wherever a rule is named.
func (r *Resolver) ruleByIDOrCode(ctx context.Context, id *int64, code *string) (*domain.Rule, error) {
	switch {
	case (id == nil) == (code == nil):
		return nil, apperr.Invalid("id", "give exactly one of id and code")
	case code != nil:
		return r.Rulebook.RuleByCode(ctx, *code)
	}
	return r.Rulebook.Rule(ctx, *id)
}
