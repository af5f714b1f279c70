package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the release build running as its own process.
type server struct {
	cmd     *exec.Cmd
	addr    string
	pprof   string
	logPath string
	exited  chan struct{}
}

// startServer runs the binary against dbURL in production mode with a
// bootstrap admin, and waits until it is ready.
func startServer(ctx context.Context, o options, dbURL string) (*server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "riskgraph-bench-*.log")
	if err != nil {
		return nil, err
	}
	s := &server{addr: addr, pprof: o.pprofAddr, logPath: logFile.Name(), exited: make(chan struct{})}
	s.cmd = exec.Command(o.serverBin)
	s.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + dbURL,
		"ADDR=" + addr,
		"APP_ENV=production",
		"JWT_SECRET=" + rand.Text() + rand.Text(),
		"ADMIN_USERNAME=" + benchAdmin,
		"ADMIN_PASSWORD=" + adminPassword,
		// 1,000 subscribers share one ANALYST token; the default per-user cap
		// is for people, not for a load test.
		"WS_MAX_SUBSCRIPTIONS_PER_USER=" + strconv.Itoa(max(o.plan.subscribers*2, 100)),
	}, o.serverEnv...)
	if o.pprofAddr != "" {
		s.cmd.Env = append(s.cmd.Env, "PPROF_ADDR="+o.pprofAddr)
	}
	// Request logs go to a file, as they would in production.
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w (run make build first)", o.serverBin, err)
	}
	logFile.Close() // the child holds its own descriptor
	go func() {
		s.cmd.Wait() //nolint:errcheck // the exit is reported through s.exited
		close(s.exited)
	}()
	log.Printf("server pid %d on %s (log %s)", s.cmd.Process.Pid, addr, s.logPath)
	err = bounded(ctx, 90*time.Second, "server start", func(ctx context.Context) error {
		for {
			select {
			case <-s.exited:
				return fmt.Errorf("server exited during start-up; last log lines:\n%s", tail(s.logPath, 20))
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
	})
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop ends the server gracefully, killing it if it won't go.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited meanwhile
	select {
	case <-s.exited:
	case <-time.After(25 * time.Second):
		s.cmd.Process.Kill() //nolint:errcheck
		<-s.exited
	}
}

// alive fails if the server has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server exited; last log lines:\n%s", tail(s.logPath, 20))
	default:
		return nil
	}
}

type memory struct{ peak, current int64 } // bytes

// memory reads the server's peak (VmHWM) and current (VmRSS) resident set.
func (s *server) memory() memory {
	var m memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
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

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
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
}

// bootstrapAccounts creates, through the API, the SERVICE account that
// submits and the ANALYST that subscribes, as an operator would.
func bootstrapAccounts(ctx context.Context, s *server) (*accounts, error) {
	admin, _, err := s.login(ctx, benchAdmin, adminPassword)
	if err != nil {
		return nil, err
	}
	for _, u := range []struct{ name, password, role string }{
		{"bench-gateway", gatewayPassword, "SERVICE"},
		{"bench-analyst", analystPassword, "ANALYST"},
	} {
		err := s.graphql(ctx, admin, `mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"username": u.name, "password": u.password, "role": u.role}}, nil)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", u.name, err)
		}
	}
	a := &accounts{}
	if a.gatewayToken, a.gatewayID, err = s.login(ctx, "bench-gateway", gatewayPassword); err != nil {
		return nil, err
	}
	if a.analystToken, _, err = s.login(ctx, "bench-analyst", analystPassword); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *server) login(ctx context.Context, username, password string) (token string, userID int64, err error) {
	var out struct {
		Login struct {
			AccessToken string
			User        struct{ ID string }
		}
	}
	err = s.graphql(ctx, "", `mutation($in: LoginInput!) { login(input: $in) { accessToken user { id } } }`,
		map[string]any{"in": map[string]any{"username": username, "password": password}}, &out)
	if err != nil {
		return "", 0, fmt.Errorf("login %s: %w", username, err)
	}
	userID, err = strconv.ParseInt(out.Login.User.ID, 10, 64)
	return out.Login.AccessToken, userID, err
}

// graphql posts one operation and decodes its data into out (which may be nil).
func (s *server) graphql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	if len(env.Errors) > 0 {
		return errors.New(env.Errors[0].String())
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Data, out)
}

type gqlError struct {
	Message    string
	Extensions struct{ Code string }
}

func (e gqlError) String() string { return e.Extensions.Code + ": " + e.Message }
