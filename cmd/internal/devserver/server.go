// Package devserver runs the release server binary as a child process and
// speaks GraphQL over HTTP to it, for the developer commands cmd/bench,
// cmd/simulate and cmd/chaos. They measure, replay against and break the real
// thing (APP_ENV=production, its own process, its own database), so they all
// start it the same way; what they do with it once it is up is theirs.
package devserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Config says how to run the server binary. The binary gets only PATH and
// what is named here, so the developer's shell leaks nothing into it.
type Config struct {
	Binary      string
	DatabaseURL string
	// Addr is where it listens; "" picks a free loopback port.
	Addr string
	// JWTSecret signs its tokens; "" is a random one. Servers given the
	// same secret accept each other's tokens.
	JWTSecret string
	// The bootstrap ADMIN.
	AdminUsername, AdminPassword string
	// Env is further KEY=VALUE entries; they come last, so they win.
	Env []string
	// Log gets the server's output. The caller may close it once Start
	// returns: the child holds its own descriptor.
	Log *os.File
	// SysProcAttr, when set, is the child's, e.g. a process group of its own.
	SysProcAttr *syscall.SysProcAttr
}

// Server is the binary running as a child process.
type Server struct {
	Addr    string
	LogPath string // "" without a Config.Log
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process is reaped
}

// Start starts the binary in production mode; WaitReady waits until it serves.
func Start(cfg Config) (*Server, error) {
	s := &Server{Addr: cfg.Addr, exited: make(chan struct{})}
	if s.Addr == "" {
		var err error
		if s.Addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	secret := cfg.JWTSecret
	if secret == "" {
		secret = rand.Text() + rand.Text()
	}
	s.cmd = exec.Command(cfg.Binary)
	s.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + cfg.DatabaseURL,
		"ADDR=" + s.Addr,
		"METRICS_ADDR=127.0.0.1:0", // instances share the machine: any free port
		"APP_ENV=production",
		"JWT_SECRET=" + secret,
		"ADMIN_USERNAME=" + cfg.AdminUsername,
		"ADMIN_PASSWORD=" + cfg.AdminPassword,
	}, cfg.Env...)
	if cfg.Log != nil {
		s.cmd.Stdout, s.cmd.Stderr = cfg.Log, cfg.Log
		s.LogPath = cfg.Log.Name()
	}
	s.cmd.SysProcAttr = cfg.SysProcAttr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	go func() {
		s.cmd.Wait() //nolint:errcheck // the exit is reported through s.exited
		close(s.exited)
	}()
	return s, nil
}

// WaitReady polls /readyz, which pings the database, until it answers 200.
// It fails when the process exits first or within passes; the caller decides
// what to do with the process and its log.
func (s *Server) WaitReady(ctx context.Context, within time.Duration) error {
	wait, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	probe := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(wait, http.MethodGet, "http://"+s.Addr+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited during start-up (%s)", s.cmd.ProcessState)
		case <-wait.Done():
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("server not ready: %w", err)
			}
			return fmt.Errorf("server not ready within %s", within)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// GraphQLURL is the server's HTTP GraphQL endpoint.
func (s *Server) GraphQLURL() string { return "http://" + s.Addr + "/graphql" }

// PID is the process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Signal sends sig; an exited process needs none, so its error is seldom of interest.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Exited is closed once the process has exited and been reaped.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// ProcessState is how the process ended; nil until Exited is closed.
func (s *Server) ProcessState() *os.ProcessState {
	select {
	case <-s.exited:
		return s.cmd.ProcessState
	default:
		return nil
	}
}

// Alive fails once the process has exited, with its last words.
func (s *Server) Alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server exited; last log lines:\n%s", s.LogTail(20))
	default:
		return nil
	}
}

// Stop ends the server gracefully (SIGTERM), killing it if it won't go.
func (s *Server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited meanwhile
	select {
	case <-s.exited:
	case <-time.After(25 * time.Second):
		s.cmd.Process.Kill() //nolint:errcheck
		<-s.exited
	}
}

// LogTail is the log's last n lines ("" when there is none).
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FreeAddr asks the kernel for a free loopback port.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
