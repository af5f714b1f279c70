// Package demo seeds the demonstration accounts of `make run`; the server refuses it in production.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/apikey"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// SeedPassword is seed 000's customer password, kept for the demo customers only.
const SeedPassword = "123456"

// Accounts is what Seed created or found.
type Accounts struct {
	// StaffPassword is the password given to newly created staff accounts, "" when all existed.
	StaffPassword string
	Created       []string
	// Reset are the existing staff accounts whose password Seed set to staffPassword.
	Reset []string
}

// Seed creates alice (USER) and bob (VIP) with the seed password, and analyst,
// admin and gateway (SERVICE) with staffPassword, or a random one when empty.
// A staffPassword given (DEMO_PASSWORD) is applied at every start, also to
// staff accounts that exist, so a lost demo password is recovered by
// restarting with a new one; without it existing accounts are left untouched.
func Seed(ctx context.Context, accounts *account.Service, staffPassword string) (Accounts, error) {
	var out Accounts
	given := staffPassword != ""
	if !given {
		staffPassword = rand.Text()
	}
	users := []struct {
		name, password string
		role           domain.Role
		skipPolicy     bool
	}{
		{"alice", SeedPassword, domain.RoleUser, true},
		{"bob", SeedPassword, domain.RoleVIP, true},
		{"analyst", staffPassword, domain.RoleAnalyst, false},
		{"admin", staffPassword, domain.RoleAdmin, false},
		{"gateway", staffPassword, domain.RoleService, false},
	}
	for _, u := range users {
		created, err := accounts.EnsureUser(ctx, account.NewUser{
			Username: u.name, Password: u.password, Email: u.name + "@demo.smartfinance.local", Role: u.role,
		}, u.skipPolicy)
		if err != nil {
			return out, fmt.Errorf("demo: create %s: %w", u.name, err)
		}
		switch {
		case created:
			out.Created = append(out.Created, u.name)
			if !u.skipPolicy {
				out.StaffPassword = staffPassword
			}
		case given && !u.skipPolicy:
			reset, err := accounts.ResetPassword(ctx, u.name, staffPassword, "DEMO_PASSWORD")
			if err != nil {
				return out, fmt.Errorf("demo: set the password of %s from DEMO_PASSWORD: %w", u.name, err)
			}
			if reset {
				out.Reset = append(out.Reset, u.name)
			}
		}
	}
	return out, nil
}

// GatewayKeyName names the demo gateway's API key.
const GatewayKeyName = "demo key"

// GatewayKey issues the demo `gateway` a fresh API key with every scope, and
// revokes the one the previous start issued: only a key's hash is stored, so
// a restart could not print the old one again.
func GatewayKey(ctx context.Context, keys *apikey.Service, db bun.IDB) (string, error) {
	u, err := store.UserByUsername(ctx, db, "gateway")
	if err != nil {
		return "", fmt.Errorf("demo: find gateway: %w", err)
	}
	key, err := keys.IssueDemo(ctx, u.ID, GatewayKeyName)
	if err != nil {
		return "", fmt.Errorf("demo: the gateway's API key: %w", err)
	}
	return key, nil
}
