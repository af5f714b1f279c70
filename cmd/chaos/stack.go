//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// adminUsername is the admin every instance bootstraps (ADMIN_USERNAME).
const adminUsername = "chaos-admin"

// customers is how many end users each scenario submits for: one per load
// client, so clients never wait on each other's per-user lock.
const customerCount = 8

// account is a logged-in user.
type account struct {
	id, token string
}

// stack is one scenario's deployment: a fresh database, its servers, and the
// accounts the admin created through the API.
type stack struct {
	dbURL     string
	servers   []*instance
	admin     account
	service   account // submits for every customer, as a payment system does
	analyst   account // subscribes to alerts
	customers []string
}

const (
	loginMutation = `mutation($in: LoginInput!) { login(input: $in) { accessToken user { id } } }`
	createUser    = `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`
)

// newStack starts servers instances on a fresh database named after the
// scenario, then has the bootstrapped admin create a SERVICE account, an
// ANALYST and the customers.
func (r *rig) newStack(ctx context.Context, name string, servers int) (*stack, error) {
	dbURL, err := r.pg.createDatabase(ctx, "chaos_"+name)
	if err != nil {
		return nil, err
	}
	s := &stack{dbURL: dbURL}
	// One at a time: the first migrates, the others find the schema in place.
	for n := range servers {
		addr, err := devserver.FreeAddr()
		if err != nil {
			return nil, err
		}
		i, err := r.startInstance(ctx, fmt.Sprintf("%s-%c", name, 'a'+n), dbURL, addr)
		if err != nil {
			return nil, err
		}
		s.servers = append(s.servers, i)
	}
	c := s.servers[0].client
	if s.admin, err = login(ctx, c, adminUsername, r.adminPassword); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	if s.service, err = s.newAccount(ctx, c, name+"-gateway", "SERVICE"); err != nil {
		return nil, err
	}
	if s.analyst, err = s.newAccount(ctx, c, name+"-analyst", "ANALYST"); err != nil {
		return nil, err
	}
	for n := range customerCount {
		var out struct{ CreateUser struct{ ID string } }
		in := map[string]any{"username": fmt.Sprintf("%s-customer-%d", name, n), "password": rand.Text(), "role": "USER"}
		if err := c.must(ctx, s.admin.token, createUser, map[string]any{"in": in}, &out); err != nil {
			return nil, fmt.Errorf("create customer: %w", err)
		}
		s.customers = append(s.customers, out.CreateUser.ID)
	}
	return s, nil
}

// newAccount creates a user with role through createUser and logs it in.
func (s *stack) newAccount(ctx context.Context, c *gqlClient, username, role string) (account, error) {
	password := rand.Text()
	in := map[string]any{"username": username, "password": password, "role": role}
	var out struct{ CreateUser struct{ ID string } }
	if err := c.must(ctx, s.admin.token, createUser, map[string]any{"in": in}, &out); err != nil {
		return account{}, fmt.Errorf("create %s: %w", role, err)
	}
	a, err := login(ctx, c, username, password)
	if err != nil {
		return account{}, fmt.Errorf("%s login: %w", role, err)
	}
	return a, nil
}

func login(ctx context.Context, c *gqlClient, username, password string) (account, error) {
	var out struct {
		Login struct {
			AccessToken string
			User        struct{ ID string }
		}
	}
	in := map[string]any{"username": username, "password": password}
	if err := c.must(ctx, "", loginMutation, map[string]any{"in": in}, &out); err != nil {
		return account{}, err
	}
	return account{id: out.Login.User.ID, token: out.Login.AccessToken}, nil
}
