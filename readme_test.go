package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// asCommandEnv makes the test binary run as `riskgraph` (see TestMain).
const asCommandEnv = "RISKGRAPH_TEST_AS_COMMAND"

const (
	walkthroughMarker  = "<!-- walkthrough -->"
	otherTerminalMaker = "<!-- walkthrough: another terminal -->"
)

// readmeBlocks returns the ```sh blocks that follow marker in the README, in order.
func readmeBlocks(t *testing.T, readme []byte, marker string) []string {
	t.Helper()
	var blocks []string
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != marker {
			continue
		}
		if !sc.Scan() || strings.TrimSpace(sc.Text()) != "```sh" {
			t.Fatalf("README: %s must be followed by a ```sh block", marker)
		}
		var b strings.Builder
		for sc.Scan() && strings.TrimSpace(sc.Text()) != "```" {
			b.WriteString(sc.Text() + "\n")
		}
		blocks = append(blocks, b.String())
	}
	return blocks
}

// TestReadmeWalkthrough runs the README's walkthrough as written, with bash,
// against a fresh server with the demo data, and checks what the README says
// happens: the blocks run in order in one shell; the last one listens for a
// HIGH alert with `bin/riskgraph alerts` while the "another terminal" block,
// once the subscription is registered, raises one.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "grep", "sed", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthrough needs %s on PATH (apt-get install %s)", tool, tool)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	walk := readmeBlocks(t, readme, walkthroughMarker)
	other := readmeBlocks(t, readme, otherTerminalMaker)
	if len(walk) < 5 || len(other) != 1 || !strings.Contains(walk[len(walk)-1], "bin/riskgraph alerts") {
		t.Fatalf("README: want the walkthrough blocks ending with `bin/riskgraph alerts` and one block for another terminal; got %d and %d", len(walk), len(other))
	}

	const password = "a walkthrough passphrase" // not the README's default: the walk must use DEMO_PASSWORD
	db, dbURL := pgtest.New(t)
	e := newEnvOnWith(t, db, dbURL, func(c *config) { c.Demo, c.DemoPassword = true, password })

	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", asCommandEnv, self)
	if err := os.WriteFile(filepath.Join(dir, "bin", "riskgraph"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "API=" + e.srv.URL + "/graphql", "DEMO_PASSWORD=" + password}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a bound on a hang, not a timing assertion
	defer cancel()
	bash := func(script string, out io.Writer) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
		// The alerts command is bash's child: end the whole group on a hang.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = 5 * time.Second
		return cmd
	}

	walkOut := &lockedBuffer{}
	walkCmd := bash(strings.Join(walk, ""), walkOut)
	if err := walkCmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- walkCmd.Wait() }()

	// Raise the alert only once the shell's subscription is registered.
	for e.app.hub.Subscribers() == 0 {
		select {
		case err := <-done:
			t.Fatalf("the walkthrough ended before subscribing (%v):\n%s", err, walkOut.String())
		case <-ctx.Done():
			t.Fatalf("the walkthrough never subscribed:\n%s", walkOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	var otherOut bytes.Buffer
	if err := bash(other[0], &otherOut).Run(); err != nil {
		t.Fatalf("the other terminal's block failed: %v\n%s", err, otherOut.String())
	}
	if !strings.Contains(otherOut.String(), `"alert":{"level":"HIGH"}`) {
		t.Errorf("the other terminal's payments raised no HIGH alert, as the README says they do:\n%s", otherOut.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, walkOut.String())
	}

	out := walkOut.String()
	t.Logf("walkthrough output:\n%s", out)
	if strings.Contains(out, `"errors"`) {
		t.Errorf("a walkthrough step answered errors:\n%s", out)
	}
	// What the README's prose says each step shows.
	for _, want := range []string{
		`"role":"USER"`, `"fingerprint":"fp-carol-`, // register, login, me
		`"refreshToken":{"accessToken":"`,                                             // the refresh mutation
		`"apiKey":{"prefix":"rgk_`, `"scopes":["transactions:submit","results:read"]`, // createApiKey
		`"ruleScore":50`, `"riskLevel":"MEDIUM"`, `"decision":"PASS"`, `"features":{}},"riskEvent":null,"alert":null`,
		`"status":"INVESTIGATING"`, `"status":"CONFIRMED_FRAUD","user":{"status":"FROZEN"}`,
		`"status":"ACKNOWLEDGED"`, `"status":"RESOLVED","handledBy":{"username":"analyst"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("walkthrough output lacks %s", want)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var alert struct {
		Level string
		User  struct{ Username string }
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &alert); err != nil || alert.Level != "HIGH" || alert.User.Username != "alice" {
		t.Errorf("the last line is not alice's HIGH alert from `riskgraph alerts` (%v): %s", err, lines[len(lines)-1])
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
