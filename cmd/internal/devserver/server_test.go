package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for bin/riskgraph: started with
// FAKE_SERVER set, it is the child process instead of running the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_SERVER"); mode != "" {
		fakeServer(mode)
		return
	}
	os.Exit(m.Run())
}

// fakeServer serves /readyz and answers every GraphQL request with the
// environment it got and the request's Authorization header. With mode
// "fail" it complains and exits 3 instead; with "hang" it never listens.
func fakeServer(mode string) {
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "starting")
		fmt.Fprintln(os.Stderr, "config: JWT_SECRET too short")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{ //nolint:errcheck
			"env": env, "authorization": r.Header.Get("Authorization")}})
	})
	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: mux}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// fakeConfig runs this test binary as the server.
func fakeConfig(t *testing.T, mode string) Config {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(t.TempDir() + "/server.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return Config{Binary: bin, DatabaseURL: "postgres://db.invalid/x", AdminUsername: "admin", AdminPassword: "secret",
		Env: []string{"FAKE_SERVER=" + mode, "ADMIN_USERNAME=override"}, Log: log}
}

func TestServerLifecycle(t *testing.T) {
	ctx := context.Background()
	srv, err := Start(fakeConfig(t, "serve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if err := srv.WaitReady(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := srv.Alive(); err != nil {
		t.Fatalf("Alive: %v", err)
	}

	var out struct {
		Env           map[string]string
		Authorization string
	}
	api := &Client{URL: srv.GraphQLURL()}
	if err := api.Do(ctx, "tok", "{ env }", nil, &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.Authorization, "Bearer tok"; got != want {
		t.Errorf("Authorization: got %q; want %q", got, want)
	}
	for k, want := range map[string]string{
		"APP_ENV":        "production",
		"ADDR":           srv.Addr,
		"DATABASE_URL":   "postgres://db.invalid/x",
		"ADMIN_PASSWORD": "secret",
		"ADMIN_USERNAME": "override", // Config.Env comes last and wins
		"PATH":           os.Getenv("PATH"),
	} {
		if got := out.Env[k]; got != want {
			t.Errorf("%s: got %q; want %q", k, got, want)
		}
	}
	if len(out.Env["JWT_SECRET"]) < 32 {
		t.Errorf("JWT_SECRET: got %q; want a random one", out.Env["JWT_SECRET"])
	}
	if _, ok := out.Env["HOME"]; ok {
		t.Error("HOME leaked into the server's environment")
	}

	srv.Stop()
	if st := srv.ProcessState(); st == nil || !st.Success() {
		t.Errorf("after Stop: state %v; want a clean exit", st)
	}
	if err := srv.Alive(); err == nil {
		t.Error("Alive after Stop: got nil; want an error")
	}
}

func TestWaitReadyExited(t *testing.T) {
	srv, err := Start(fakeConfig(t, "fail"))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.WaitReady(context.Background(), 10*time.Second)
	if got, want := fmt.Sprint(err), "server exited during start-up (exit status 3)"; got != want {
		t.Errorf("WaitReady: got %q; want %q", got, want)
	}
	if got, want := srv.LogTail(1), "config: JWT_SECRET too short"; got != want {
		t.Errorf("LogTail(1): got %q; want %q", got, want)
	}
	if got, want := srv.LogTail(5), "starting\nconfig: JWT_SECRET too short"; got != want {
		t.Errorf("LogTail(5): got %q; want %q", got, want)
	}
}

func TestWaitReadyTimeout(t *testing.T) {
	srv, err := Start(fakeConfig(t, "hang"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	err = srv.WaitReady(context.Background(), 200*time.Millisecond)
	if got, want := fmt.Sprint(err), "server not ready within 200ms"; got != want {
		t.Errorf("WaitReady: got %q; want %q", got, want)
	}
}
