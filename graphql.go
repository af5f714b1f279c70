package main

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	validation "github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/smartfinance/riskgraph/graph"
	"github.com/smartfinance/riskgraph/internal/gqlguard"
	"github.com/smartfinance/riskgraph/internal/gqlhttp"
	"github.com/smartfinance/riskgraph/internal/loader"
	"github.com/smartfinance/riskgraph/resolvers"
)

// graphQLServer is the GraphQL handler: transports, caches, the guards that
// run before any resolver, the operation deadline and the error mapping.
func (a *app) graphQLServer(cfg config, res *resolvers.Resolver) *handler.Server {
	schema := graph.NewExecutableSchema(graph.Config{
		Resolvers:  res,
		Directives: graph.DirectiveRoot{HasRole: resolvers.HasRole},
		Complexity: resolvers.Complexity(),
	})
	srv := handler.New(schema)
	srv.AddTransport(transport.Websocket{
		Implementation: closeCodes{inner: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: cfg.AllowedOrigins,
		}}, shutdown: a.wsCtx},
		InitFunc:              a.websocketInit,
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: wsKeepAlive,
		PingPongInterval:      wsPingPong,
		PayloadReadLimit:      ptr(cfg.Limits.MaxBodyBytes),
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(gqlhttp.Spec(transport.GET{}))
	srv.AddTransport(gqlhttp.Spec(transport.POST{}))
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheEntries))
	srv.SetParserTokenLimit(cfg.Limits.ParserTokens)
	if tracer := a.tracer.GraphQL(); tracer != nil {
		srv.Use(tracer) // first, so the operation's span covers the guards too
	}
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	// Suggestions ("did you mean …") map the schema for an attacker: without
	// introspection, no validation rule may offer one.
	if hide := cfg.production() || !cfg.Introspection; hide {
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	srv.Use(gqlhttp.PersistedQueries{Cache: lru.New[string](apqCacheEntries)})
	srv.Use(&gqlguard.Limits{MaxDepth: cfg.Limits.MaxDepth, MaxAliases: cfg.Limits.MaxAliases,
		MaxSelections: cfg.Limits.MaxSelections, MaxComplexity: cfg.Limits.Complexity, Introspection: cfg.Introspection,
		CacheEntries: queryCacheEntries})
	srv.Use(gqlguard.Text{MaxBytes: cfg.Limits.MaxStringBytes})
	srv.Use(a.metrics.Extension())
	// The operation deadline bounds each query and mutation (not subscriptions).
	// It is set per root field: a deadline on the whole operation would make
	// gqlgen answer an expired one with an empty response instead of an error.
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, a.limits.OperationTimeout)
		defer cancel()
		return next(ctx)
	})
	srv.SetErrorPresenter(resolvers.ErrorPresenter(a.log))
	srv.SetRecoverFunc(resolvers.Recover(a.log))
	loaders := loader.Services{RuleVersions: a.rules.Versions, Rules: a.rules.RulesByIDs, DataSources: a.sources.ByIDs}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			release, refused := a.admitSubscription(ctx)
			if refused != nil {
				return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
					Message: refused.Message, Extensions: map[string]any{"code": string(refused.Code)},
				}}})
			}
			context.AfterFunc(ctx, release)
		}
		return next(loader.With(ctx, a.db, loaders))
	})
	return srv
}

// rulesWithoutSuggestions are gqlparser's default rules with every rule that
// can name a schema member in its message swapped for its silent variant.
func rulesWithoutSuggestions() *validation.Rules {
	r := validation.NewDefaultRules()
	for _, silent := range []core.Rule{
		validation.FieldsOnCorrectTypeRuleWithoutSuggestions, validation.ScalarLeafsRuleWithoutSuggestions,
		validation.KnownArgumentNamesRuleWithoutSuggestions, validation.KnownTypeNamesRuleWithoutSuggestions,
		validation.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.ReplaceRule(strings.TrimSuffix(silent.Name, "WithoutSuggestions"), silent.RuleFunc)
	}
	return r
}

func ptr[T any](v T) *T { return &v }
