package main

import (
	"maps"
	"net/http"
	"testing"
)

// The outbox's administration is ADMIN only: endpoints carry secrets and
// deliveries carry every event's payload.
func init() {
	maps.Copy(authzMatrix, map[string]cells{
		//                                  anonymous USER  USER-other VIP  VIP-other ANALYST ADMIN SERVICE
		"Query.webhookEndpoints":           {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Query.webhookDeliveries":          {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Query.webhookEventTypes":          {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.upsertWebhookEndpoint":   {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.deleteWebhookEndpoint":   {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.replayWebhookDelivery":   {unauth, forbid, na, forbid, na, forbid, allow, forbid},
		"Mutation.replayWebhookDeliveries": {unauth, forbid, na, forbid, na, forbid, allow, forbid},
	})
	// A disabled endpoint: the fixtures' later changes write no events.
	endpoint := func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
		return c, map[string]any{"in": map[string]any{"url": "https://hooks.example.com/" + s.name("authz"), "enabled": false}}
	}
	maps.Copy(authzOps, map[string]authzOp{
		"Query.webhookEndpoints":         {query: `{ webhookEndpoints { id secret } }`},
		"Query.webhookDeliveries":        {query: `{ webhookDeliveries { totalCount } }`},
		"Query.webhookEventTypes":        {query: `{ webhookEventTypes }`},
		"Mutation.upsertWebhookEndpoint": {query: upsertEndpointMutation, vars: endpoint},
		"Mutation.deleteWebhookEndpoint": {query: `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`,
			vars: func(t *testing.T, s *authzSuite, c authzCaller) (authzCaller, map[string]any) {
				_, in := endpoint(t, s, c)
				var out struct {
					UpsertWebhookEndpoint struct{ Endpoint endpointOut }
				}
				s.e.must(t, s.admin.AccessToken, upsertEndpointMutation, in, &out)
				return c, map[string]any{"id": out.UpsertWebhookEndpoint.Endpoint.ID}
			}},
		"Mutation.replayWebhookDelivery": {query: `mutation($id: ID!) { replayWebhookDelivery(id: $id) { id status } }`,
			vars: fixed(func(s *authzSuite) map[string]any { return map[string]any{"id": s.webhookDelivery} })},
		"Mutation.replayWebhookDeliveries": {query: `mutation($e: ID!, $from: Time!, $to: Time!) { replayWebhookDeliveries(endpointId: $e, from: $from, to: $to) }`,
			vars: fixed(func(s *authzSuite) map[string]any {
				w := window(s)
				w["e"] = s.webhookEndpoint
				return w
			})},
	})
}

// deliveredWebhook sends one rule.changed event to a receiver and returns the
// endpoint and its finished delivery, then disables the endpoint so the
// suite's later changes write no events.
func (s *authzSuite) deliveredWebhook(t *testing.T) (endpoint, delivery string) {
	t.Helper()
	r := newReceiver(t)
	r.answer = func(hook, int) int { return http.StatusNoContent }
	endpoint, _ = s.e.addEndpoint(t, s.admin.AccessToken, r.srv.URL, "rule.changed")
	s.e.must(t, s.admin.AccessToken, `mutation { upsertRule(input: {name: "authz webhook", condition: "amount > 999999999999", score: 1, enabled: false}) { id } }`, nil, nil)
	waitFor(t, "the rule.changed delivery", func() bool {
		ds := s.e.deliveries(t, s.admin.AccessToken, map[string]any{"endpointId": endpoint, "status": "DELIVERED"})
		if len(ds) > 0 {
			delivery = ds[0].ID
		}
		return delivery != ""
	})
	s.e.must(t, s.admin.AccessToken, upsertEndpointMutation, map[string]any{"in": map[string]any{"id": endpoint, "url": r.srv.URL, "enabled": false}}, nil)
	return endpoint, delivery
}
