package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ownServer is a release build of the server run as a child process against
// a database of its own, as cmd/bench does it.
type ownServer struct {
	adminURL string
	dbName   string
	cmd      *exec.Cmd
	exited   chan struct{}
	logPath  string
	addr     string
	// The bootstrap ADMIN: random, the database is dropped afterwards.
	adminUser, adminPassword string
}

// startOwn creates a fresh database on the admin URL's server and starts the
// binary on it in production mode with the rule packs named, a bootstrap admin and login and
// registration throttles opened up for one busy client. Once the database
// exists it returns the server even with an error, so that the caller's stop
// ends whatever started and drops the database.
func startOwn(ctx context.Context, adminURL, binary, rulePacks string) (*ownServer, error) {
	s := &ownServer{adminURL: adminURL, dbName: "riskgraph_sim_" + strings.ToLower(rand.Text()[:8]),
		exited: make(chan struct{}), adminUser: "sim-admin", adminPassword: rand.Text()}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the admin URL: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+s.dbName); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	log.Printf("database %s created", s.dbName)
	u, err := url.Parse(adminURL)
	if err != nil {
		return s, err
	}
	u.Path = "/" + s.dbName

	if s.addr, err = freeLoopbackAddr(); err != nil {
		return s, err
	}
	logFile, err := os.CreateTemp("", "riskgraph-simulate-*.log")
	if err != nil {
		return s, err
	}
	s.logPath = logFile.Name()
	s.cmd = exec.Command(binary)
	s.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + u.String(),
		"ADDR=" + s.addr,
		"APP_ENV=production",
		"RULE_PACKS=" + rulePacks,
		"JWT_SECRET=" + rand.Text() + rand.Text(),
		"ADMIN_USERNAME=" + s.adminUser,
		"ADMIN_PASSWORD=" + s.adminPassword,
		// Every login comes from this one loopback client.
		"LOGIN_RATE_PER_MINUTE=100000",
		"REGISTER_RATE_PER_MINUTE=100000",
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		s.cmd = nil
		return s, fmt.Errorf("start %s: %w (make build builds it)", binary, err)
	}
	logFile.Close() // the child holds its own descriptor
	go func() {
		s.cmd.Wait() //nolint:errcheck // the exit is reported through s.exited
		close(s.exited)
	}()
	log.Printf("server pid %d on %s (log %s)", s.cmd.Process.Pid, s.addr, s.logPath)
	return s, s.waitReady(ctx)
}

func (s *ownServer) url() string { return "http://" + s.addr + "/graphql" }

func (s *ownServer) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("server exited during start-up; last log lines:\n%s", tail(s.logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + s.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// alive fails once the server has exited, with its last words.
func (s *ownServer) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server exited; last log lines:\n%s", tail(s.logPath, 20))
	default:
		return nil
	}
}

// stop ends the server (gracefully, else killed) and drops the database unless keep.
func (s *ownServer) stop(keep bool) {
	if s.cmd != nil {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited meanwhile
			select {
			case <-s.exited:
			case <-time.After(25 * time.Second):
				s.cmd.Process.Kill() //nolint:errcheck
				<-s.exited
			}
		}
	}
	if keep {
		log.Printf("kept database %s", s.dbName)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, s.adminURL)
	if err == nil {
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)")
	}
	if err != nil {
		log.Printf("drop database %s: %v", s.dbName, err)
		return
	}
	if s.logPath != "" {
		os.Remove(s.logPath) //nolint:errcheck // a leftover temp file is harmless
	}
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
