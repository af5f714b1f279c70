package resolvers

import (
	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/submit"
)

// relatedFanOut is the typical size of a bounded relation (devices of a user, users of a device).
const relatedFanOut = 10

// Complexity prices list fields at their children's cost times the rows they
// may return, so `first` and nested lists count against the complexity limit.
func Complexity() graph.ComplexityRoot {
	rows := func(first *int) int {
		if first != nil && *first > 0 {
			return *first
		}
		return page.DefaultSize
	}
	// Relations hold at most a hundred rows (store.MaxRelated) but typically a handful:
	// pricing them at the cap would refuse ordinary two-level queries.
	related := func(child int) int { return 1 + child*relatedFanOut }
	var c graph.ComplexityRoot
	c.Query.Users = func(child int, _ *domain.UserFilter, first *int, _ *string) int { return 1 + child*rows(first) }
	c.Query.Transactions = func(child int, _ *domain.TransactionFilter, first *int, _ *string, _ *domain.ListOrder) int {
		return 1 + child*rows(first)
	}
	c.Query.RiskEvents = func(child int, _ *domain.RiskEventFilter, first *int, _ *string, _ *domain.ListOrder) int {
		return 1 + child*rows(first)
	}
	c.Query.Alerts = func(child int, _ *domain.AlertFilter, first *int, _ *string) int { return 1 + child*rows(first) }
	c.Query.AuditLogs = func(child int, _ *domain.AuditLogFilter, first *int, _ *string) int { return 1 + child*rows(first) }
	c.Query.WebhookDeliveries = func(child int, _ *outbox.Filter, first *int, _ *string) int { return 1 + child*rows(first) }
	c.User.Transactions = func(child int, _ *domain.TransactionFilter, first *int, _ *string, _ *domain.ListOrder) int {
		return 1 + child*rows(first)
	}
	c.Device.Transactions = func(child int, first *int, _ *string) int { return 1 + child*rows(first) }
	c.User.LoginLogs = func(child int, first *int) int { return 1 + child*rows(first) }
	c.User.RelatedUsers = func(child int, _ *int) int { return related(child) }
	c.User.Devices = related
	c.Device.Users = related
	// Each input is a submission whose result is selected like a list row's.
	c.Mutation.SubmitTransactions = func(child int, inputs []*submit.Input) int { return 1 + child*max(1, len(inputs)) }
	return c
}
