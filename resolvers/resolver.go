// Package resolvers is the GraphQL layer: it authorizes, validates, calls a use case and maps errors. No SQL here.
package resolvers

//go:generate go tool gqlgen generate

import (
	"context"
	"github.com/smartfinance/riskgraph/internal/lists"
	"log/slog"
	"time"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/analysis"
	"github.com/smartfinance/riskgraph/internal/anomaly"
	"github.com/smartfinance/riskgraph/internal/apikey"
	"github.com/smartfinance/riskgraph/internal/backtest"
	"github.com/smartfinance/riskgraph/internal/cases"
	"github.com/smartfinance/riskgraph/internal/datasource"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/fraudmodel"
	"github.com/smartfinance/riskgraph/internal/monitor"
	"github.com/smartfinance/riskgraph/internal/outbox"
	"github.com/smartfinance/riskgraph/internal/page"
	"github.com/smartfinance/riskgraph/internal/pubsub"
	"github.com/smartfinance/riskgraph/internal/rules"
	"github.com/smartfinance/riskgraph/internal/submit"
	"github.com/smartfinance/riskgraph/internal/webhook"
)

// Resolver is the dependency-injection root: the services the graph calls.
type Resolver struct {
	Accounts *account.Service
	// Keychain manages SERVICE accounts' API keys.
	Keychain *apikey.Service
	Audit    AuditReader
	Submit   *submit.Service
	Cases    *cases.Service
	Rulebook *rules.Service
	// Listbook manages the block and allow lists inList reads.
	Listbook  *lists.Service
	AlertHub  *pubsub.Hub
	Analysis  *analysis.Service
	Dashboard *monitor.Service
	Sources   *datasource.Service
	Backtest  *backtest.Service
	Training  *fraudmodel.Service
	Anomaly   *anomaly.Service
	Log       *slog.Logger
	// Now is the clock, for defaults such as "the last 30 days".
	Now func() time.Time

	// Webhooks manages webhook endpoints; Deliveries is the outbox's delivery log.
	Webhooks   *webhook.Service
	Deliveries *outbox.Service
}

// subscriberBuffer is how many alerts a subscriber may fall behind before it is disconnected.
const subscriberBuffer = 64

// AuditReader lists audit entries.
type AuditReader interface {
	AuditLogs(ctx context.Context, f domain.AuditLogFilter, req page.Request) (page.Result[*domain.AuditLog], error)
}
