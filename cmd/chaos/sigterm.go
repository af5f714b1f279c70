//go:build linux

package main

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// sigterm sends SIGTERM to a server while 8 clients submit and two analysts
// hold alert subscriptions. Every request sent before the signal must get a
// proper response (the server drains); requests after the listener closed may
// be refused, which is counted apart. Subscribers must be closed with 1001
// (going away), and the server must exit 0 within its shutdown timeout.
func sigterm(ctx context.Context, r *rig, res *result) {
	const (
		warmUp      = 2 * time.Second
		subscribers = 2
	)
	s, err := r.newStack(ctx, "sigterm", 1)
	if err != nil {
		res.fail("setup: %v", err)
		return
	}
	srv := s.servers[0]
	var subs []*subscriber
	for range subscribers {
		sub, err := subscribe(ctx, srv.proc.Addr, s.analyst.token, "LOW")
		if err != nil {
			res.fail("subscribe: %v", err)
			return
		}
		defer sub.close()
		subs = append(subs, sub)
	}
	res.step("%s on %s; %d subscribers; %d clients submitting, each stopping at its first refused connection",
		srv.name, srv.proc.Addr, subscribers, customerCount)
	l := startLoad(ctx, loadSpec{prefix: "term", clients: customerCount, targets: []*gqlClient{srv.client},
		token: s.service.token, users: s.customers, stopWhenRefused: true})
	sleep(ctx, warmUp)

	res.step("SIGTERM %s (pid %d), %d submissions acknowledged so far", srv.name, srv.proc.PID(), l.ackedSoFar())
	termAt := time.Now()
	srv.signal(syscall.SIGTERM)
	exitCtx, cancel := context.WithTimeout(ctx, shutdownTimeout+5*time.Second)
	exited := srv.waitExit(exitCtx)
	cancel()
	exitAfter := time.Since(termAt)
	if exited {
		res.step("%s exited (%s)", srv.name, srv.proc.ProcessState())
	} else {
		srv.kill()
	}
	as := l.finish(0)
	for _, sub := range subs {
		sub.waitEnded(2 * time.Second)
	}
	res.step("load stopped")

	// In flight at SIGTERM: written to the socket before the signal was sent.
	sent, drained := 0, 0
	var failedInFlight []string
	after := map[string]int{}
	for _, a := range as {
		if a.wrote.IsZero() || !a.wrote.Before(termAt) {
			after[string(a.outcome())]++
			continue
		}
		sent++
		if a.end.After(termAt) {
			drained++
		}
		if !a.ok() {
			failedInFlight = append(failedInFlight, a.describe())
		}
	}
	t := tallyOf(as)
	res.figure("%d requests, %d acknowledged; sent before SIGTERM: %d, of them still in flight at SIGTERM: %d",
		t.attempts, t.acked, sent, drained)
	res.figure("sent after SIGTERM: %s (refused = listener closed, not a failure)", countsOf(after))
	res.check(len(failedInFlight) == 0, "every request sent before SIGTERM got a proper response: %d failed%s",
		len(failedInFlight), examples(failedInFlight))
	res.check(t.hung == 0, "no request took over %s: %d did (slowest %s)", hangLimit, t.hung, secs(t.slowest))
	res.check(exited && srv.proc.ProcessState().Success(), "exited with status 0 within %s of SIGTERM: after %s (%v)",
		shutdownTimeout+5*time.Second, secs(exitAfter), srv.proc.ProcessState())

	codes := map[string]int{}
	for n, sub := range subs {
		sub.mu.Lock()
		code, reason, closedAt, completed, got := sub.closeCode, sub.closeReason, sub.closedAt, !sub.completed.IsZero(), len(sub.received)
		sub.mu.Unlock()
		codes[fmt.Sprint(int(code))]++
		when := "still open"
		if !closedAt.IsZero() {
			when = secs(closedAt.Sub(termAt)) + " after SIGTERM"
		}
		res.check(code == 1001, "subscriber %d closed with 1001 (going away): got %d %q %s (%d alerts received, complete message: %v)",
			n+1, int(code), reason, when, got, completed)
	}

	in, err := checkIntegrity(ctx, s.dbURL, s.service.id, as)
	if err != nil {
		res.fail("verify the database: %v", err)
	} else {
		reportIntegrity(res, in, t.acked, t.keys, true)
	}
	healthChecks(res, srv)
	res.headlines(fmt.Sprintf("in flight at SIGTERM %d, failed %d", drained, len(failedInFlight)),
		fmt.Sprintf("after SIGTERM: %s", countsOf(after)), "exit after "+secs(exitAfter),
		"websocket close codes: "+countsOf(codes))
}
