package main

import (
	"strings"
	"testing"
)

// flagAll flags (MEDIUM, PASS) every transaction of the classes given.
func flagAll(tr *traffic, classes ...string) []outcome {
	out := make([]outcome, len(tr.Events))
	for i, e := range tr.Events {
		out[i] = outcome{Done: true, Level: "LOW", Decision: "PASS"}
		for _, c := range classes {
			if e.Class == c {
				out[i].Level = "MEDIUM"
			}
		}
	}
	return out
}

func TestComparisonTable(t *testing.T) {
	tr := generateT(t, 12, testStart)
	count := func(class string) (tx, episodes int) {
		for _, e := range tr.Events {
			if e.Kind == submitEvent && e.Class == class {
				tx++
			}
		}
		for _, ep := range tr.Episodes {
			if ep.Typology == class {
				episodes++
			}
		}
		return
	}
	// The pack flags every bot-farm transaction and every charity donation.
	pack := newReport(tr, flagAll(tr, botFarm, charityDrive))
	seed := newReport(tr, flagAll(tr))
	c := &comparison{traffic: tr, heldOut: []string{botFarm, slowDrain}, columns: []*column{
		{name: configSeed, rep: seed}, {name: configPack, rep: pack},
		{name: configAnomaly, unavailable: "the server has no trainAnomalyModel mutation"},
	}}
	md := c.markdown()
	farmTx, farmEpisodes := count(botFarm)
	drainTx, drainEpisodes := count(slowDrain)
	charityTx, _ := count(charityDrive)
	for _, want := range []string{
		"| fraud typology | episodes | transactions | seed rules | pack | pack + model + anomaly |\n",
		"| bot farm on one /24 (held out) | " + thousands(farmEpisodes) + " | " + thousands(farmTx) + " | 0 of " + thousands(farmEpisodes) + " · 0.0% / 0.0% | " +
			thousands(farmEpisodes) + " of " + thousands(farmEpisodes) + " · 100.0% / 0.0% | not available |\n",
		"| **held-out typologies** | " + thousands(farmEpisodes+drainEpisodes) + " | " + thousands(farmTx+drainTx) + " | ",
		"| charity drive | " + thousands(charityTx) + " | 0 (0.00%) / 0 (0.00%) | " + thousands(charityTx) + " (100.00%) / 0 (0.00%) | not available |\n",
		// fraud alerts ÷ all alerts
		"| alert precision (fraud alerts ÷ all alerts) | – (0 of 0) | " + pct(farmTx, farmTx+charityTx, 1) + " (" + thousands(farmTx) + " of " + thousands(farmTx+charityTx) + ") | not available |\n",
		"| total | seed rules | pack | pack + model + anomaly |\n|---|---|---|---|\n",
		"Held out (the model's training traffic had none of them): bot farm on one /24, accelerating slow drain.",
		"### pack + model + anomaly\n\nNot available: the server has no trainAnomalyModel mutation.\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

func TestOptionsLists(t *testing.T) {
	o := options{trainSeed: 11}
	if err := o.parseLists("anomaly, seed,pack,seed", "slow-drain,bot-farm"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.configs, ",") != "seed,pack,anomaly" || strings.Join(o.holdout, "|") != botFarm+"|"+slowDrain {
		t.Fatalf("configs %q, holdout %q", o.configs, o.holdout)
	}
	if o.replays() != 4 {
		t.Fatalf("%d replays, want 4 (training and three configurations)", o.replays())
	}
	for _, tt := range []struct {
		configs, holdout string
		trainSeed        uint64
		url, want        string
	}{
		{"bogus", "", 11, "", "unknown configuration"},
		{"", "nope", 11, "", "unknown typology"},
		{"model", "", 0, "", "need -train-seed"},
		{"", "bot-farm", 0, "", "-holdout needs -train-seed"},
		{"seed", "", 0, "http://x/graphql", "server of its own"},
	} {
		o := options{trainSeed: tt.trainSeed, url: tt.url, token: "t", adminURL: "postgres://x", concurrency: 1, cfg: config{Users: 600, Days: 21}}
		err := o.parseLists(tt.configs, tt.holdout)
		if err == nil {
			err = o.validate()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("-configs %q -holdout %q: got %v, want %q", tt.configs, tt.holdout, err, tt.want)
		}
	}
	// Without -configs: the pack, or the model with -train-seed.
	for seed, want := range map[uint64]string{0: configPack, 11: configModel} {
		o := options{trainSeed: seed}
		if err := o.parseLists("", ""); err != nil || len(o.configs) != 1 || o.configs[0] != want {
			t.Errorf("-train-seed %d: configs %q (%v), want %s", seed, o.configs, err, want)
		}
	}
}

func TestHoldoutLeavesTypologiesOutOfTraining(t *testing.T) {
	tr, err := generate(config{Seed: 11, Users: 600, Days: 21, Start: testStart, Without: []string{botFarm, cardTesting}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range tr.Episodes {
		if ep.Typology == botFarm || ep.Typology == cardTesting {
			t.Fatalf("training traffic has a %s episode", ep.Typology)
		}
	}
	if len(tr.Episodes) == 0 {
		t.Fatal("no episodes at all")
	}
}

func TestRunAddressesKeepTheirBlocks(t *testing.T) {
	a, b := newReplayer(nil, nil), newReplayer(nil, nil)
	x1, x2, y := a.ip("45.1.2.7"), a.ip("45.1.2.9"), a.ip("45.1.3.7")
	block := func(ip string) string { return ip[:strings.LastIndexByte(ip, '.')] }
	switch {
	case block(x1) != block(x2) || !strings.HasSuffix(x1, ".7") || !strings.HasSuffix(x2, ".9"):
		t.Fatalf("one block became %s and %s", x1, x2)
	case block(x1) == block(y):
		t.Fatalf("two blocks became one: %s, %s", x1, y)
	case a.ip("45.1.2.7") != x1:
		t.Fatal("an address moved twice differently")
	case b.ip("45.1.2.7") == x1:
		t.Fatal("two runs share an address") // one chance in about 8 million
	case a.ip("") != "":
		t.Fatal("no address became one")
	}
}
