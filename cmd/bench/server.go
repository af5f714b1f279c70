package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/smartfinance/riskgraph/cmd/internal/devserver"
)

// startServer runs the release build as its own process on a fresh database,
// in production mode with a bootstrap admin, and waits until it is ready.
func startServer(ctx context.Context, o options) (*devserver.Own, error) {
	env := append([]string{
		// 1,000 subscribers share one ANALYST token and one address; the
		// default per-user and per-address caps are for people, not for a load test.
		"WS_MAX_SUBSCRIPTIONS_PER_USER=" + strconv.Itoa(max(o.plan.subscribers*2, 100)),
		"WS_MAX_PER_ADDRESS=" + strconv.Itoa(max(o.plan.subscribers*2, 100)),
		// The bench reads the group commit's batch sizes there.
		"METRICS_ADDR=" + o.metricsAddr,
	}, o.serverEnv...)
	if o.pprofAddr != "" {
		env = append(env, "PPROF_ADDR="+o.pprofAddr)
	}
	if o.natsURL != "" {
		env = append(env, o.ingest.env(o.natsURL)...)
	}
	// Request logs go to a file, as they would in production.
	return devserver.StartOwn(ctx, o.adminURL, "bench", devserver.Config{
		Binary: o.serverBin, AdminUsername: benchAdmin, AdminPassword: adminPassword, Env: env,
	})
}

type memory struct{ peak, current int64 } // bytes

// memoryOf reads a process's peak (VmHWM) and current (VmRSS) resident set.
func memoryOf(pid int) memory {
	var m memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmHWM":
			m.peak = kb << 10
		case "VmRSS":
			m.current = kb << 10
		}
	}
	return m
}

const benchAdmin = "bench-admin"

// The run's passwords are random: the database is dropped afterwards anyway.
var (
	adminPassword   = rand.Text()
	gatewayPassword = rand.Text()
	analystPassword = rand.Text()
)

// accounts are the bench's API identities.
type accounts struct {
	gatewayID    int64
	gatewayToken string
	analystToken string
	// adminToken submits the fan-out's alerting payments: their answers carry
	// the alert, which a payment system's never show (DESIGN.md "Roles").
	adminToken string
}

// bootstrapAccounts creates, through the API, the SERVICE account that
// submits and the ANALYST that subscribes, as an operator would.
func bootstrapAccounts(ctx context.Context, api *devserver.Client) (*accounts, error) {
	admin, _, err := login(ctx, api, benchAdmin, adminPassword)
	if err != nil {
		return nil, err
	}
	for _, u := range []struct{ name, password, role string }{
		{"bench-gateway", gatewayPassword, "SERVICE"},
		{"bench-analyst", analystPassword, "ANALYST"},
	} {
		err := api.Do(ctx, admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"username": u.name, "password": u.password, "role": u.role}}, nil)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", u.name, err)
		}
	}
	a := &accounts{adminToken: admin}
	if a.gatewayToken, a.gatewayID, err = login(ctx, api, "bench-gateway", gatewayPassword); err != nil {
		return nil, err
	}
	if a.analystToken, _, err = login(ctx, api, "bench-analyst", analystPassword); err != nil {
		return nil, err
	}
	return a, nil
}

func login(ctx context.Context, api *devserver.Client, username, password string) (token string, userID int64, err error) {
	var out struct {
		Login struct {
			AccessToken string
			User        struct{ ID string }
		}
	}
	err = api.Do(ctx, "", `mutation($in: LoginInput!) { login(input: $in) { accessToken user { id } } }`,
		map[string]any{"in": map[string]any{"username": username, "password": password}}, &out)
	if err != nil {
		return "", 0, fmt.Errorf("login %s: %w", username, err)
	}
	userID, err = strconv.ParseInt(out.Login.User.ID, 10, 64)
	return out.Login.AccessToken, userID, err
}
