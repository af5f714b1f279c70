//go:build linux

package main

import (
	"context"
	"fmt"
	"time"
)

// everyHigh makes every submission HIGH, so every one raises an alert.
var everyHigh = map[string]any{
	"name": "chaos: every transaction is HIGH", "condition": "amount >= 1", "score": 90, "priority": 1000,
	"description": "added by make chaos",
}

const upsertRule = `mutation($in: RuleInput!) { upsertRule(input: $in) { id version } }`

// failover runs two servers on one database with an analyst subscribed on
// the second, submits through both, and kills the first with SIGKILL. The
// subscriber must keep receiving the alerts raised after the kill, and every
// acknowledged alert from either server exactly once.
func failover(ctx context.Context, r *rig, res *result) {
	const (
		beforeKill = 2 * time.Second
		afterKill  = 3 * time.Second
		delivery   = 8 * time.Second
	)
	s, err := r.newStack(ctx, "failover", 2)
	if err != nil {
		res.fail("setup: %v", err)
		return
	}
	a, b := s.servers[0], s.servers[1]
	var rule struct{ UpsertRule struct{ ID string } }
	if err := a.client.must(ctx, s.admin.token, upsertRule, map[string]any{"in": everyHigh}, &rule); err != nil {
		res.fail("upsertRule: %v", err)
		return
	}
	sub, err := subscribe(ctx, b.proc.Addr, s.analyst.token, "HIGH")
	if err != nil {
		res.fail("subscribe: %v", err)
		return
	}
	defer sub.close()
	// Both servers must score with the new rule (b hears of it through NOTIFY)
	// and the subscription must be live before deliveries are counted.
	for _, via := range []*instance{b, a} {
		if err := probe(ctx, via, s, sub); err != nil {
			res.fail("probe through %s: %v", via.name, err)
			return
		}
	}
	res.step("rule %s (amount >= 1 → 90) in force on %s and %s; an alert raised on either reaches the subscriber on %s",
		rule.UpsertRule.ID, a.name, b.name, b.name)

	l := startLoad(ctx, loadSpec{prefix: "fo", clients: 4, targets: []*gqlClient{a.client, b.client},
		token: s.admin.token, users: s.customers, stopWhenRefused: true})
	sleep(ctx, beforeKill)
	res.step("SIGKILL %s (pid %d), %d submissions acknowledged so far", a.name, a.proc.PID(), l.ackedSoFar())
	killAt := time.Now()
	a.kill()
	sleep(ctx, afterKill)
	as := l.finish(0)
	res.step("load stopped")

	t := tallyOf(as)
	var all, afterKillIDs []string
	ackedAt := map[string]time.Time{}
	perServer := map[string]int{}
	for _, at := range as {
		if !at.ok() || at.alertID == "" {
			continue // an acknowledgement without an alert fails the HIGH check below
		}
		all = append(all, at.alertID)
		ackedAt[at.alertID] = at.end
		perServer[at.via]++
		if at.start.After(killAt) {
			afterKillIDs = append(afterKillIDs, at.alertID)
		}
	}
	res.figure("%d requests, %d acknowledged (%s); failed requests: %s", t.attempts, t.acked, countsOf(perServer), countsOf(t.byOutcome))
	res.check(t.high == t.acked, "every acknowledged submission is HIGH with an alert: %d of %d", t.high, t.acked)

	missing := sub.waitFor(ctx, all, delivery)
	lost := map[string]bool{}
	for _, id := range missing {
		lost[id] = true
	}
	missedAfter := 0
	for _, id := range afterKillIDs {
		if lost[id] {
			missedAfter++
		}
	}
	res.check(len(afterKillIDs) > 0 && missedAfter == 0,
		"the subscriber on %s received every alert raised after the kill: %d of %d missing",
		b.name, missedAfter, len(afterKillIDs))
	res.check(len(missing) == 0, "it received every acknowledged alert from both servers: %d of %d missing", len(missing), len(all))

	seen := map[string]int{}
	var latency []time.Duration
	for _, d := range sub.deliveries() {
		seen[d.id]++
		if at, ok := ackedAt[d.id]; ok && seen[d.id] == 1 {
			latency = append(latency, max(0, d.at.Sub(at)))
		}
	}
	twice := 0
	for _, n := range seen {
		if n > 1 {
			twice++
		}
	}
	res.check(twice == 0, "no alert delivered twice: %d were", twice)
	live, state := sub.live()
	res.check(live, "the subscription on %s is still live: %s", b.name, state)
	res.figure("delivery after acknowledgement: p50 %s, max %s", secs(quantile(latency, 0.5)), secs(quantile(latency, 1)))
	healthChecks(res, a, b)
	res.headlines(fmt.Sprintf("alerts after kill %d, missed %d", len(afterKillIDs), missedAfter),
		fmt.Sprintf("all acked %d, missed %d, duplicated %d", len(all), len(missing), twice),
		"delivery max "+secs(quantile(latency, 1)))
}

// probe submits through via until a HIGH alert comes back and reaches sub.
func probe(ctx context.Context, via *instance, s *stack, sub *subscriber) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	last := "no attempt"
	for n := 0; ctx.Err() == nil; n++ {
		key := fmt.Sprintf("probe-%s-%d", via.name, n)
		a := decoded(attempt{reply: via.client.post(ctx, s.admin.token, submitMutation, submission(s.customers[0], key, 0))})
		switch {
		case !a.ok():
			last = a.describe()
		case a.level != "HIGH" || a.alertID == "":
			last = "scored " + a.level + " without the rule"
		case len(sub.waitFor(ctx, []string{a.alertID}, 2*time.Second)) > 0:
			last = "alert " + a.alertID + " not delivered within 2s"
		default:
			return nil
		}
		sleep(ctx, 200*time.Millisecond)
	}
	return fmt.Errorf("no HIGH alert reached the subscriber within 10s; last: %s", last)
}
