// Package demo seeds the demonstration accounts of `make run`; the server refuses it in production.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/smartfinance/riskgraph/internal/account"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// SeedPassword is seed 000's customer password, kept for the demo customers only.
const SeedPassword = "123456"

// Accounts is what Seed created or found.
type Accounts struct {
	// StaffPassword is the password given to newly created staff accounts, "" when all existed.
	StaffPassword string
	Created       []string
}

// Seed creates alice (USER) and bob (VIP) with the seed password, and analyst,
// admin and gateway (SERVICE) with staffPassword, or a random one when empty.
// Existing accounts are left untouched, so restarts are idempotent.
func Seed(ctx context.Context, accounts *account.Service, staffPassword string) (Accounts, error) {
	var out Accounts
	if staffPassword == "" {
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
		if created {
			out.Created = append(out.Created, u.name)
			if !u.skipPolicy {
				out.StaffPassword = staffPassword
			}
		}
	}
	return out, nil
}
