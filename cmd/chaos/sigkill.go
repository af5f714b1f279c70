//go:build linux

package main

import (
	"context"
	"fmt"
	"time"
)

// sigkill kills the only server with SIGKILL while 8 clients submit and
// starts a new one on the same address. Clients retry failed keys with the
// same key. Every acknowledged submission must be in the database, no key
// applied twice, and no submission half-written: each transaction has its
// detection, each MEDIUM/HIGH detection its risk event (and alert).
func sigkill(ctx context.Context, r *rig, res *result) {
	const (
		warmUp       = 3 * time.Second
		afterRestart = 4 * time.Second
		drain        = 15 * time.Second
	)
	s, err := r.newStack(ctx, "sigkill", 1)
	if err != nil {
		res.fail("setup: %v", err)
		return
	}
	srv := s.servers[0]
	res.step("%s on %s; %d clients submitting, a failed key retried with the same key", srv.name, srv.proc.Addr, customerCount)
	l := startLoad(ctx, loadSpec{prefix: "kill", clients: customerCount, targets: []*gqlClient{srv.client},
		token: s.service.token, users: s.customers, retry: true})
	sleep(ctx, warmUp)

	res.step("SIGKILL %s (pid %d), %d submissions acknowledged so far", srv.name, srv.proc.PID(), l.ackedSoFar())
	killAt := time.Now()
	srv.kill()
	restarted, err := r.startInstance(ctx, "sigkill-a-restarted", s.dbURL, srv.proc.Addr)
	if err != nil {
		res.fail("restart: %v", err)
	} else {
		res.step("restarted on %s, ready %s after the kill", restarted.proc.Addr, secs(time.Since(killAt)))
		sleep(ctx, afterRestart)
	}
	res.step("stopping the load; pending keys keep retrying for up to %s", drain)
	as := l.finish(drain)
	res.step("load stopped")

	t := tallyOf(as)
	res.figure("%d requests, %d submissions acknowledged, %d retries; failed requests: %s",
		t.attempts, t.acked, t.retries, countsOf(t.byOutcome))
	// Keys whose request died with the server: was it committed first (the
	// retry replays it) or rolled back (the retry writes it)?
	failed := map[string]bool{}
	for _, a := range as {
		if !a.ok() {
			failed[a.key] = true
		}
	}
	replayed, rewritten := 0, 0
	for _, a := range as {
		if a.ok() && failed[a.key] {
			if a.txCreated.Before(killAt) {
				replayed++
			} else {
				rewritten++
			}
		}
	}
	res.figure("keys that failed and were retried: %d; their transaction was committed before the kill (retry replayed it): %d, written by the retry: %d",
		len(failed), replayed, rewritten)

	res.check(t.hung == 0, "no request took over %s: %d did (slowest %s)", hangLimit, t.hung, secs(t.slowest))
	noBody := t.byOutcome[string(outBad)]
	res.check(noBody == 0, "every reply was a GraphQL response (no bare HTTP 500): %d was not%s", noBody, examples(t.bad))
	res.check(t.ackedKeys == t.keys, "every key was acknowledged in the end: %d of %d", t.ackedKeys, t.keys)

	in, err := checkIntegrity(ctx, s.dbURL, s.service.id, as)
	if err != nil {
		res.fail("verify the database: %v", err)
	} else {
		reportIntegrity(res, in, t.acked, t.keys, true)
		res.check(in.mediumHigh > 0, "the load raised MEDIUM/HIGH detections, so the event check had something to check: %d", in.mediumHigh)
	}
	healthChecks(res, srv)
	restartTime := "-"
	if restarted != nil {
		healthChecks(res, restarted)
		restartTime = secs(restarted.readyAt.Sub(killAt))
	}
	res.headlines(fmt.Sprintf("acked %d", t.acked), "restart ready after "+restartTime,
		fmt.Sprintf("retried keys %d (replayed %d)", len(failed), replayed),
		fmt.Sprintf("missing %d, dup keys %d, tx w/o detection %d, MEDIUM/HIGH w/o event %d",
			in.ackedMissing, in.duplicated, in.withoutDetection, in.withoutEvent))
}
