package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/smartfinance/riskgraph/internal/console"
	"github.com/smartfinance/riskgraph/internal/demo"
)

// browser drives Debian's Chromium against one test server, recording every
// request the page makes and every script error or content-policy refusal.
type browser struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	base   string
	// shots is where screenshots go: docs/console under make screenshots
	// (CONSOLE_SCREENSHOTS), else a temporary folder, so make test leaves
	// the committed ones alone.
	shots    string
	mu       sync.Mutex
	requests []string
	problems []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
		// The closed network refuses Chromium's own background traffic; keep it quiet.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	}
	b := &browser{t: t, base: base, shots: os.Getenv("CONSOLE_SCREENSHOTS")}
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(b.record))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a deadline (chromedp's rule).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b.ctx, b.cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(b.cancel)
	return b
}

// record keeps every request, script error and content-policy refusal (network and log are on by default).
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *network.EventWebSocketCreated:
		b.requests = append(b.requests, ev.URL)
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+exceptionText(ev.ExceptionDetails))
	case *cdplog.EventEntryAdded:
		if strings.Contains(ev.Entry.Text, "Content Security Policy") {
			b.problems = append(b.problems, "CSP: "+ev.Entry.Text+" ("+ev.Entry.URL+")")
		}
	}
}

func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// waitFor polls a script until it returns true (the context bounds the wait).
func (b *browser) waitFor(script string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](script, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		// What the page showed instead, for the failure report.
		shot := filepath.Join(os.TempDir(), fmt.Sprintf("console-failure-%d.png", time.Now().UnixNano()))
		if png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(shot, png, 0o644)
		}
		main, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 1500)`))
		b.t.Fatalf("waiting for %s: %v\npage (screenshot %s):\n%s", script, err, shot, main)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

// screenshot saves the whole page as <name>.png in b.shots.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.run(chromedp.Sleep(150 * time.Millisecond))
	png := get(b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) signIn(username, password string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + "/"))
	b.fillSignIn(username, password)
}

// fillSignIn signs in on the form the page shows, wherever it is.
func (b *browser) fillSignIn(username, password string) {
	b.t.Helper()
	b.run(
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=who]`)),
	)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.Search(`//button[text()="Sign out"]`)), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)))
}

func (b *browser) nav(label, ready string) {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//header//a[text()=%q]`, label))))
	b.waitFor(ready)
}

// TestConsoleInBrowser walks the console's screens in headless Chromium
// against a real server with the demo data, and screenshots each screen
// (docs/console/*.png with make screenshots).
func TestConsoleInBrowser(t *testing.T) {
	const staffPassword = "console-demo-password"
	e, _ := newEnvWith(t, func(c *config) { c.Playground, c.Demo, c.DemoPassword = true, true, staffPassword })
	cfg := testConfig(e.url, e.clock)
	cfg.Demo, cfg.DemoPassword = true, staffPassword
	if err := e.app.bootstrap(context.Background(), cfg); err != nil {
		t.Fatalf("demo data: %v", err)
	}
	if err := os.MkdirAll(filepath.Join("docs", "console"), 0o755); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	b := newBrowser(t, e.srv.URL)

	// Sign-in.
	b.run(chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)))
	b.screenshot("signin")
	b.run(chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "analyst"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "wrong-password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.signin [role=alert]`)))
	if msg := b.text(`.signin [role=alert]`); strings.Contains(msg, "wrong-password") || msg == "" {
		t.Fatalf("a refused sign-in shows %q", msg)
	}
	b.signIn("analyst", staffPassword)

	// Live alerts: a payment submitted by the gateway appears without a reload.
	b.waitFor(`document.querySelector('[data-testid=feed-status]').textContent.includes('live') && document.querySelectorAll('tr[data-alert-id]').length > 0`)
	analyst := e.login(t, "analyst", staffPassword)
	var found struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	e.must(t, analyst.AccessToken, `query { users(filter: {search: "customer12"}) { edges { node { id } } } }`, nil, &found)
	gateway := e.login(t, "gateway", staffPassword)
	sent := time.Now()
	var submitted struct {
		SubmitTransaction struct {
			Transaction struct{ ID string }
			Detection   struct{ RiskLevel string }
		}
	}
	e.must(t, gateway.AccessToken, `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { transaction { id } detection { riskLevel } } }`,
		map[string]any{"in": map[string]any{"userId": found.Users.Edges[0].Node.ID, "amount": "15000.00", "deviceId": "fp-console-laptop",
			"ipAddress": "198.51.100.7", "merchantId": "m-luxury",
			"location": map[string]any{"latitude": 51.5072, "longitude": -0.1276, "country": "GB", "city": "London"}}}, &submitted)
	txID := submitted.SubmitTransaction.Transaction.ID
	b.waitFor(fmt.Sprintf(`!!document.querySelector('tr[data-tx-id="%s"]')`, txID))
	latency := time.Since(sent)
	t.Logf("alert to screen: %v (submission of a %s transaction to its row in the live list)", latency.Round(time.Millisecond), submitted.SubmitTransaction.Detection.RiskLevel)
	if latency > 2*time.Second {
		t.Errorf("the alert took %v to appear, want ≤ 2s", latency)
	}
	if unread := b.text(`[data-testid=unread]`); !strings.HasPrefix(unread, "1 ") {
		t.Errorf("unread count %q, want 1 after one live alert", unread)
	}
	if level := submitted.SubmitTransaction.Detection.RiskLevel; level != "HIGH" {
		t.Fatalf("the test transaction scored %s; it must be HIGH to show the notice", level)
	}
	if notice := b.text(`.high-notice`); !strings.Contains(notice, "HIGH alert") {
		t.Errorf("no visible notice for the HIGH alert: %q", notice)
	}
	b.screenshot("alerts")
	alertRow := fmt.Sprintf(`tr[data-tx-id="%s"]`, txID)
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[@data-tx-id="%s"]//button[.="Acknowledge"]`, txID))))
	b.waitFor(fmt.Sprintf(`document.querySelector('%s').textContent.includes('ACKNOWLEDGED')`, alertRow))

	// Case detail: start, confirm fraud; both steps in the timeline; the graph draws nodes.
	b.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-tx-id="%s"] a`, txID))), chromedp.WaitVisible(chromedp.CSS(`#case-title`)))
	b.run(chromedp.Click(chromedp.CSS(`button[data-action=START]`)))
	b.waitFor(`!!document.querySelector('[data-testid=timeline] li[data-step=START]') && !!document.querySelector('button[data-action=CONFIRM_FRAUD]')`)
	b.run(chromedp.Click(chromedp.CSS(`button[data-action=CONFIRM_FRAUD]`)))
	b.waitFor(`!!document.querySelector('[data-testid=timeline] li[data-step=CONFIRM_FRAUD]')`)
	b.waitFor(`Number(document.querySelector('[data-testid=related-graph]')?.dataset.nodes) >= 3`)
	nodes := b.attr(`[data-testid=related-graph]`, "data-nodes")
	t.Logf("case workflow: START and CONFIRM_FRAUD in the timeline; related-users graph drew %s nodes", nodes)
	b.screenshot("case")

	// Customer 360 from the case: devices with status actions, transactions, sign-ins.
	b.run(chromedp.Click(chromedp.Search(`//dd/a[starts-with(@href,"/users/")]`)))
	b.waitFor(`document.querySelectorAll('[data-testid=customer-transactions] tbody tr').length > 0`)
	b.run(chromedp.Click(chromedp.Search(`//tr[@data-device="fp-console-laptop"]//button[.="Mark abnormal"]`)))
	b.waitFor(`document.querySelector('tr[data-device="fp-console-laptop"]').textContent.includes('ABNORMAL')`)
	b.screenshot("customer360")

	b.nav("Cases", `document.querySelectorAll('tr[data-event-id]').length > 0`)
	b.screenshot("cases")
	b.nav("Transactions", `document.querySelectorAll('[data-testid=transactions] tbody tr').length > 0`)
	// An amount range narrows the list (the case's 15,000 stays in it).
	b.setValue(`input[name=minAmount]`, "10000")
	b.setValue(`input[name=maxAmount]`, "20000")
	b.waitFor(`(() => {
		const amounts = [...document.querySelectorAll('[data-testid=transactions] tbody tr')].map((tr) => parseFloat(tr.cells[3].textContent));
		return amounts.length > 0 && amounts.every((a) => a >= 10000 && a <= 20000);
	})()`)
	b.screenshot("transactions")
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//a[.="#%s"]`, txID))))
	b.waitFor(`!!document.querySelector('[data-testid=matched-rules]')`)
	b.run(chromedp.Click(chromedp.CSS(`details summary`)))
	b.screenshot("transaction")
	b.nav("Dashboard", `Number(document.querySelector('[data-testid=trend]')?.dataset.points) > 0 && !!document.querySelector('[data-testid=trend] canvas') && !!document.querySelector('[data-testid=system]')`)
	b.screenshot("dashboard")
	b.nav("Rules", `document.querySelectorAll('[data-testid=rules] tbody tr').length > 0`)
	b.signOut()

	// Rules: an administrator disables one and still sees it disabled after a reload.
	b.signIn("admin", staffPassword)
	b.nav("Rules", `document.querySelectorAll('[data-testid=rules] tbody tr[data-enabled=true]').length > 0`)
	const rule = "high velocity"
	row := fmt.Sprintf(`[data-testid=rules] tr[data-rule=%q]`, rule)
	if enabled := b.attr(row, "data-enabled"); enabled != "true" {
		t.Fatalf("rule %q starts enabled=%s", rule, enabled)
	}
	b.run(chromedp.Click(chromedp.CSS(row + ` input[type=checkbox]`)))
	b.waitFor(fmt.Sprintf(`document.querySelector('%s')?.dataset.enabled === 'false'`, row))
	b.run(chromedp.Reload())
	b.waitFor(fmt.Sprintf(`!!document.querySelector('%s')`, row))
	if enabled := b.attr(row, "data-enabled"); enabled != "false" {
		t.Fatalf("rule %q after a reload: enabled=%s, want false", rule, enabled)
	}
	b.screenshot("rules")

	// The editor: a condition the compiler refuses shows its message under the
	// field; a fixed one saves as version 2, whose diff shows; a backtest counts.
	b.run(chromedp.Click(chromedp.CSS(`button[aria-label="Open large amount"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=versions] li`)))
	b.setValue(`textarea[name=condition]`, "amount >= ")
	b.run(chromedp.Click(chromedp.Search(`//button[.="Save as a new version"]`)))
	b.waitFor(`(document.querySelector('#condition-error')?.textContent || '').includes('check the input')`)
	compileError := b.text(`#condition-error`)
	b.setValue(`textarea[name=condition]`, "amount >= 12000")
	b.run(chromedp.Click(chromedp.Search(`//button[.="Save as a new version"]`)))
	b.waitFor(`(document.querySelector('[data-testid=versions]')?.textContent || '').includes('amount >= 12000')`)
	b.run(chromedp.Click(chromedp.Search(`//button[.="Run backtest"]`)))
	b.waitFor(`(document.querySelector('[data-testid=backtest]')?.textContent || '').includes('Hits')`)
	b.screenshot("rule-editor")
	t.Logf("rule editor: compile error shown inline (%q), v2 saved with its diff, backtest: %s",
		compileError, strings.Join(strings.Fields(b.text(`[data-testid=backtest] dd:nth-of-type(2)`)), " "))

	// Administration: accounts and roles, the audit log (the rule edits above
	// are in it), data sources with their secrets masked, models.
	b.nav("Administration", `document.querySelectorAll('[data-testid=admin-users] tbody tr').length > 0`)
	b.run(chromedp.Click(chromedp.Search(`//button[@role="tab"][.="Audit log"]`)))
	b.waitFor(`(document.querySelector('[data-testid=audit]')?.textContent || '').includes('rule.')`)
	b.screenshot("admin-audit")
	b.run(chromedp.Click(chromedp.Search(`//button[@role="tab"][.="Data sources"]`)))
	b.waitFor(`document.querySelectorAll('[data-testid=sources] tbody tr').length > 0`)
	if sources := b.text(`[data-testid=sources]`); !strings.Contains(sources, `"***"`) || strings.Contains(sources, "demo-password") {
		t.Errorf("data sources must show their secrets masked: %s", sources)
	}
	b.screenshot("admin-sources")

	// Expiry: past the access token's 15 minutes the next request refreshes the
	// session in the background and the page carries on; past the refresh
	// token's 30 days the console asks to sign in again over the same page.
	e.clock.Advance(16 * time.Minute)
	b.nav("Transactions", `document.querySelectorAll('[data-testid=transactions] tbody tr').length > 0`)
	if who := b.text(`[data-testid=who]`); !strings.HasPrefix(who, "admin") {
		t.Fatalf("after the access token expired the page shows %q, want admin still signed in", who)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	b.run(chromedp.Click(chromedp.Search(`//header//a[text()="Dashboard"]`)), chromedp.WaitVisible(chromedp.CSS(`.signin .notice`)))
	b.screenshot("expired")
	b.fillSignIn("admin", staffPassword)
	b.waitFor(`location.pathname === '/dashboard' && Number(document.querySelector('[data-testid=trend]')?.dataset.points) > 0`)
	t.Logf("expiry: a stale access token was refreshed in the background; an ended session asked to sign in and came back to /dashboard")
	b.signOut()

	// A customer sees only their own data and no staff screen.
	alice := e.login(t, "alice", demo.SeedPassword)
	e.must(t, alice.AccessToken, `mutation { submitTransaction(input: {amount: "42.50", merchantId: "m-books", deviceId: "fp-alice-phone"}) { transaction { id } } }`, nil, nil)
	b.signIn("alice", demo.SeedPassword)
	b.waitFor(`!!document.querySelector('[data-testid=devices]')`)
	b.screenshot("customer-account")
	b.nav("My transactions", `document.querySelectorAll('[data-testid=transactions] tbody tr').length > 0`)
	users := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=transactions] tbody tr')].map(r => r.dataset.user || '')`))
	for _, u := range users {
		if u != "alice" {
			t.Errorf("the customer's transaction list shows a row of %q", u)
		}
	}
	navText := b.text(`header nav`)
	if strings.Contains(navText, "Alerts") || strings.Contains(navText, "Cases") || strings.Contains(navText, "Rules") {
		t.Errorf("the customer's navigation offers staff screens: %q", navText)
	}
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload())
	b.waitFor(`document.querySelectorAll('[data-testid=transactions] tbody tr').length > 0`)
	b.screenshot("customer-phone")
	b.run(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(e.srv.URL+"/cases"), chromedp.WaitVisible(chromedp.CSS(`main [role=alert]`)))
	body := b.text(`main`)
	if !strings.Contains(body, "not available to your role") || strings.Contains(body, "customer12") {
		t.Errorf("a customer opening /cases sees %q", body)
	}
	t.Logf("customer view: %d own transactions, no staff screens", len(users))
	b.signOut()

	// GraphiQL from embedded files.
	b.run(chromedp.Navigate(e.srv.URL + "/playground"))
	b.waitFor(`!!document.querySelector('.graphiql-container') && !!document.querySelector('.graphiql-query-editor .CodeMirror')`)
	b.run(chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
	b.waitFor(`(document.querySelector('.graphiql-response')?.textContent || '').includes('"Query"')`)
	b.screenshot("playground")

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Hostname() != "127.0.0.1") {
			t.Errorf("the browser requested %q: no request may leave 127.0.0.1", r)
		}
	}
	for _, p := range b.problems {
		t.Errorf("browser: %s", p)
	}
	t.Logf("browser test: %d requests, all to 127.0.0.1; %v", len(b.requests), time.Since(started).Round(100*time.Millisecond))
}

// setValue replaces a form field's value the way typing would, so React sees it.
func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	get(b, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value').set.call(el, %q);
		return el.dispatchEvent(new Event('input', {bubbles: true}));
	})()`, sel, value)))
}

func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	return get(b, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// TestConsoleServing covers how the bundle is served: the page at / and on
// every app route, hashed assets cached for good, missing files a 404, the
// playground only where enabled, and the API paths untouched.
func TestConsoleServing(t *testing.T) {
	get := func(t *testing.T, e *testEnv, method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	e, _ := newEnvWith(t, func(c *config) { c.Playground = true })
	for _, path := range []string{"/", "/cases/12", "/transactions?decision=REJECT", "/index.html"} {
		resp, body := get(t, e, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
			t.Errorf("GET %s: HTTP %d, want the console page", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != console.Policy {
			t.Errorf("GET %s: CSP %q, want the console's", path, csp)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q: the page must not be cached (it names the current bundle)", path, cc)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "<style") {
			t.Errorf("GET %s: inline script or style, which the CSP forbids", path)
		}
	}
	// Every file the two pages load is in the bundle, served with its type and cached for good.
	_, index := get(t, e, http.MethodGet, "/")
	_, playground := get(t, e, http.MethodGet, "/playground")
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(index+playground, -1)
	if len(refs) < 3 || !strings.Contains(playground, `id="graphiql"`) {
		t.Fatalf("pages reference %d assets; playground page: %.200s", len(refs), playground)
	}
	for _, m := range refs {
		resp, _ := get(t, e, http.MethodGet, m[1])
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: HTTP %d, Cache-Control %q", m[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("GET %s: Content-Type %q", m[1], ct)
		}
	}
	for path, want := range map[string]int{"/assets/missing.js": 404, "/favicon.ico": 404, "/healthz": 200} {
		if resp, _ := get(t, e, http.MethodGet, path); resp.StatusCode != want {
			t.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, want)
		}
	}
	if resp, _ := get(t, e, http.MethodPost, "/cases"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /cases: HTTP %d, want 405", resp.StatusCode)
	}

	// Production: the console stays, the playground is gone.
	p, _ := newEnvWith(t, func(c *config) {
		c.Env, c.Introspection, c.Playground, c.MetricsAddr = "production", false, false, "127.0.0.1:0"
	})
	if resp, body := get(t, p, http.MethodGet, "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
		t.Errorf("production GET /: HTTP %d, want the console", resp.StatusCode)
	}
	for _, path := range []string{"/playground", "/metrics"} {
		if resp, _ := get(t, p, http.MethodGet, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("production GET %s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}
}
