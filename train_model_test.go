package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smartfinance/riskgraph/internal/domain"
)

// TestTrainModelCommand runs `riskgraph train-model` against a database a
// running server uses: refused input says why, a trained model is stored
// and printed, and -activate makes the running server score with it.
func TestTrainModelCommand(t *testing.T) {
	e := newEnv(t)
	gateway := e.user(t, "gateway", domain.RoleService)
	carl := e.user(t, "carl", domain.RoleUser)
	command := func(args ...string) (stdout string, err error) {
		var out, errOut bytes.Buffer
		err = trainModel(t.Context(), e.db, args, &out, &errOut)
		return out.String(), err
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no labels", nil, "train-model: from: the period holds 0 labelled transactions; training needs at least 20"},
		{"bad time", []string{"-from", "yesterday"}, `train-model: -from "yesterday": want an RFC 3339 time`},
		{"empty period", []string{"-from", "2026-03-02T00:00:00Z", "-to", "2026-03-01T00:00:00Z"}, "train-model: to: must be after from"},
		{"negative l2", []string{"-l2", "-1"}, "train-model: l2: must be a non-negative number"},
		{"argument", []string{"now"}, `train-model: unexpected argument "now"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := command(tt.args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got error %v; want one starting %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("got output %q; want none", out)
			}
		})
	}

	// 24 transactions through the API, labelled through the API: the 12
	// above 8,000 FRAUD, the rest LEGITIMATE.
	label := `mutation($id: ID!, $l: Label!) { labelTransaction(id: $id, label: $l, source: "TEST") { label } }`
	for i := range 24 {
		s := e.submit(t, gateway.AccessToken, map[string]any{"userId": carl.User.ID, "amount": fmt.Sprint(5 + i*700)})
		l := "LEGITIMATE"
		if 5+i*700 > 8000 {
			l = "FRAUD"
		}
		e.must(t, gateway.AccessToken, label, map[string]any{"id": s.Transaction.ID, "l": l}, nil)
	}

	out, err := command("-seed", "3")
	if err != nil {
		t.Fatalf("train-model: %v", err)
	}
	for _, want := range []string{
		"model v1 (id ", "LOGISTIC_REGRESSION",
		"labels     24 (12 FRAUD, 12 LEGITIMATE)",
		"seed 3, L2 0.01",
		"held out   ", "precision  ", "recall     ", "AUC        ",
		"active     no",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := e.count(t, "SELECT count(*) FROM models WHERE version = 1 AND NOT active AND (metrics->>'seed')::int = 3"); n != 1 {
		t.Fatalf("inactive v1 trained with seed 3: %d rows, want 1", n)
	}

	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	out, err = command("-activate", "-from", from, "-l2", "0.1")
	if err != nil {
		t.Fatalf("train-model -activate: %v", err)
	}
	for _, want := range []string{"model v2 (id ", "period     " + from + " to ", "seed 1, L2 0.1,", "active     yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := e.count(t, "SELECT count(*) FROM models WHERE active"); n != 1 {
		t.Fatalf("active models: %d, want 1", n)
	}
	if n := e.count(t, "SELECT count(*) FROM models WHERE active AND version = 2 AND activated_by IS NULL"); n != 1 {
		t.Fatal("v2 is not the active model")
	}

	// The running server heard the activation and scores with v2.
	var d struct {
		SubmitTransaction struct {
			Detection struct{ ModelVersion *string }
		}
	}
	detect := `mutation($in: SubmitTransactionInput!) { submitTransaction(input: $in) { detection { modelVersion } } }`
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.must(t, gateway.AccessToken, detect, map[string]any{"in": map[string]any{"userId": carl.User.ID, "amount": "20"}}, &d)
		if v := d.SubmitTransaction.Detection.ModelVersion; v != nil && *v == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running server still scores with model %v, want v2", d.SubmitTransaction.Detection.ModelVersion)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
