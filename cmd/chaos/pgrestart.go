//go:build linux

package main

import (
	"context"
	"fmt"
	"time"
)

// pgRestart stops PostgreSQL for a few seconds while 8 clients submit,
// retrying failed submissions with the same idempotency key, then starts it
// again. During the outage requests must fail fast with a GraphQL error (not
// a bare 500, a dropped connection or a hang); within 5 s of the database's
// return every client must succeed again; nothing acknowledged may be lost
// and no retried key may be applied twice. An analyst's alert subscription
// must outlive the restart and receive every alert: the server's listener
// reconnects and catches up on what it missed.
func pgRestart(ctx context.Context, r *rig, res *result) {
	const (
		warmUp = 3 * time.Second
		// Long enough for the alert listener's reconnect backoff to reach its
		// cap, so it lags the database's return by seconds and alerts pile up
		// for its catch-up, as they would after a real restart.
		outage        = 8 * time.Second
		afterReturn   = 6 * time.Second
		drain         = 15 * time.Second
		recoveryLimit = 5 * time.Second
	)
	s, err := r.newStack(ctx, "pgrestart", 1)
	if err != nil {
		res.fail("setup: %v", err)
		return
	}
	srv := s.servers[0]
	// The alert listener must reconnect and catch up on its own after the restart.
	sub, err := subscribe(ctx, srv.proc.Addr, s.analyst.token, "MEDIUM")
	if err != nil {
		res.fail("subscribe: %v", err)
		return
	}
	defer sub.close()
	res.step("%s on %s; %d clients submitting as the admin (its answers carry the alerts to follow), a failed key retried with the same key every %s",
		srv.name, srv.proc.Addr, customerCount, retryPause)
	l := startLoad(ctx, loadSpec{prefix: "pg", clients: customerCount, targets: []*gqlClient{srv.client},
		token: s.admin.token, users: s.customers, retry: true})
	sleep(ctx, warmUp)

	res.step("stopping PostgreSQL (pg_ctl stop -m fast), %d submissions acknowledged so far", l.ackedSoFar())
	downAt := time.Now()
	if err := r.pg.stop(ctx); err != nil {
		res.fail("pg_ctl stop: %v", err)
		l.finish(0)
		return
	}
	res.step("PostgreSQL is down (the stop took %s); keeping it down %s", secs(time.Since(downAt)), outage)
	sleep(ctx, outage)
	if err := r.pg.restart(ctx); err != nil {
		res.fail("pg_ctl start: %v", err)
		l.finish(0)
		return
	}
	upAt := time.Now()
	res.step("PostgreSQL accepts connections again, %s after the stop began", secs(upAt.Sub(downAt)))
	sleep(ctx, afterReturn)
	res.step("stopping the load; pending keys keep retrying for up to %s", drain)
	as := l.finish(drain)
	res.step("load stopped")

	t := tallyOf(as)
	res.figure("%d requests, %d submissions acknowledged, %d retries; failed requests: %s",
		t.attempts, t.acked, t.retries, countsOf(t.byOutcome))
	outageCodes := map[string]int{}
	var outageLatency []time.Duration
	firstOK := map[int]time.Time{} // per client, the first success after the return
	late := 0
	for _, a := range as {
		if !a.ok() && !a.start.Before(downAt) && a.start.Before(upAt) {
			outageLatency = append(outageLatency, a.elapsed())
			outageCodes[outcomeLabel(a)]++
		}
		if a.ok() && a.end.After(upAt) {
			if first, seen := firstOK[a.client]; !seen || a.end.Before(first) {
				firstOK[a.client] = a.end
			}
		}
		if !a.ok() && a.start.After(upAt.Add(recoveryLimit)) {
			late++
		}
	}
	res.figure("sent during the outage and failed: %d (%s); answered in p50 %s, p99 %s, max %s",
		len(outageLatency), countsOf(outageCodes), secs(quantile(outageLatency, 0.5)),
		secs(quantile(outageLatency, 0.99)), secs(quantile(outageLatency, 1)))

	res.check(t.hung == 0, "no request took over %s: %d did (slowest %s)", hangLimit, t.hung, secs(t.slowest))
	noBody := t.byOutcome[string(outBad)]
	res.check(noBody == 0, "every failure carried a GraphQL error body (no bare HTTP 500): %d did not%s", noBody, examples(t.bad))
	dropped := t.byOutcome[string(outDropped)] + t.byOutcome[string(outRefused)]
	res.check(dropped == 0, "no connection dropped or refused (net/http drops one on a handler panic): %d", dropped)
	res.check(len(outageLatency) > 0, "the outage was felt: %d requests failed while PostgreSQL was down", len(outageLatency))
	other := 0
	for code, n := range outageCodes {
		if code != "UNAVAILABLE" {
			other += n
		}
	}
	if other > 0 {
		res.figure("note: %d outage failures carried another code than UNAVAILABLE", other)
	}

	var recovery time.Duration
	never := 0
	for c := range customerCount {
		if first, ok := firstOK[c]; ok {
			recovery = max(recovery, first.Sub(upAt))
		} else {
			never++
		}
	}
	res.check(never == 0 && recovery <= recoveryLimit,
		"every client succeeded again within %s of PostgreSQL's return: the last after %s (%d never did)",
		recoveryLimit, secs(recovery), never)
	res.check(late == 0, "no failure among requests sent more than %s after the return: %d", recoveryLimit, late)
	res.check(t.ackedKeys == t.keys, "every key was acknowledged in the end: %d of %d", t.ackedKeys, t.keys)

	in, err := checkIntegrity(ctx, s.dbURL, s.admin.id, as)
	if err != nil {
		res.fail("verify the database: %v", err)
	} else {
		reportIntegrity(res, in, t.acked, t.keys, true)
	}

	var alerts []string
	for _, a := range as {
		if a.ok() && a.alertID != "" {
			alerts = append(alerts, a.alertID)
		}
	}
	missing := sub.waitFor(ctx, alerts, 8*time.Second)
	live, state := sub.live()
	res.check(live, "the alert subscription on %s survived the restart: %s", srv.name, state)
	if done := sub.completedAt(); !done.IsZero() {
		// The listener's catch-up publishes what it missed in one burst; the
		// hub drops a subscriber whose buffer that overflows.
		raised := 0
		for _, a := range as {
			if a.alertID != "" && a.end.After(upAt) && a.end.Before(done) {
				raised++
			}
		}
		res.figure("completed %s after PostgreSQL's return, with %d alerts acknowledged in between",
			secs(done.Sub(upAt)), raised)
	}
	res.check(len(missing) == 0, "it got every acknowledged alert (listener reconnect and catch-up): %d of %d missing",
		len(missing), len(alerts))
	healthChecks(res, srv)

	res.headlines(fmt.Sprintf("acked %d", t.acked), "db down "+secs(upAt.Sub(downAt)),
		fmt.Sprintf("outage errors: %s", countsOf(outageCodes)), "max outage answer "+secs(quantile(outageLatency, 1)),
		"all clients back after "+secs(recovery), fmt.Sprintf("dup keys %d", in.duplicated))
}
