package apikey

import (
	"slices"
	"strings"

	"github.com/smartfinance/riskgraph/internal/apperr"
)

// The scopes: one per class of what a SERVICE account does (DESIGN.md
// "Roles"). A field an API key may call names its scope in the schema
// (@hasRole(scope: …)); a key calls only fields of its scopes, and only
// those its account's role admits. Fields without a scope (me,
// changePassword, logout, everything staff-only) are for logged-in sessions.
const (
	// ScopeSubmit: submitTransaction.
	ScopeSubmit = "transactions:submit"
	// ScopeLogins: recordLogin, a customer's login seen by the payment system.
	ScopeLogins = "logins:record"
	// ScopeLabels: labelTransaction, the payment system's own feeds (chargebacks).
	ScopeLabels = "labels:write"
	// ScopeResults: transaction and transactions, the results of what the
	// account submitted.
	ScopeResults = "results:read"
)

// Scopes is every scope, in the order listings show them.
var Scopes = []string{ScopeSubmit, ScopeLogins, ScopeLabels, ScopeResults}

// normalizeScopes validates requested scopes and returns them deduplicated,
// in the catalogue's order.
func normalizeScopes(requested []string) ([]string, error) {
	if len(requested) == 0 {
		return nil, apperr.Invalid("scopes", "name at least one of "+strings.Join(Scopes, ", "))
	}
	for _, s := range requested {
		if !slices.Contains(Scopes, s) {
			return nil, apperr.Invalid("scopes", "unknown scope; the scopes are "+strings.Join(Scopes, ", "))
		}
	}
	var out []string
	for _, s := range Scopes {
		if slices.Contains(requested, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
