package apikey

import (
	"slices"
	"strings"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
)

// The scopes (their names are auth's, where principals carry them): one per
// class of what a SERVICE account does (DESIGN.md "Roles"). A field an API
// key may call names its scope in the schema (@hasRole(scope: …)); a key
// calls only fields of its scopes, and only those its account's role admits.
// Fields without a scope (me, changePassword, logout, everything staff-only)
// are for logged-in sessions.
const (
	// ScopeSubmit: submitTransaction.
	ScopeSubmit = auth.ScopeSubmit
	// ScopeLogins: recordLogin, and a login's client facts (access.StateClientFacts).
	ScopeLogins = auth.ScopeLogins
	// ScopeLabels: labelTransaction, the payment system's own feeds (chargebacks).
	ScopeLabels = auth.ScopeLabels
	// ScopeResults: transaction and transactions, the results of what the
	// account submitted.
	ScopeResults = auth.ScopeResults
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
