package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestLabelJobsLabelEveryRecordedTransaction(t *testing.T) {
	tr := generateT(t, 11, testStart)
	outcomes := make([]outcome, len(tr.Events))
	wantFailed, wantFraud, wantLegit := 0, 0, 0
	firstFraud, firstBenign := -1, -1
	for i, e := range tr.Events {
		switch {
		case e.Kind == loginEvent:
			outcomes[i] = outcome{Done: true}
		case e.Fraud && firstFraud < 0:
			firstFraud = i
			outcomes[i] = outcome{Err: "INTERNAL: internal error"}
			wantFailed++
		case !e.Fraud && firstBenign < 0:
			// Never sent: the replay stopped first.
			firstBenign = i
		default:
			outcomes[i] = outcome{Done: true, TxID: fmt.Sprint(1000 + i)}
			if e.Fraud {
				wantFraud++
			} else {
				wantLegit++
			}
		}
	}

	m := &trainedModel{}
	jobs := m.labelJobs(tr, outcomes)
	if m.fraud != wantFraud || m.legit != wantLegit || m.failed != wantFailed || len(jobs) != wantFraud+wantLegit {
		t.Fatalf("got %d FRAUD, %d LEGITIMATE, %d failed, %d jobs; want %d, %d, %d, %d",
			m.fraud, m.legit, m.failed, len(jobs), wantFraud, wantLegit, wantFailed, wantFraud+wantLegit)
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		var i int
		if _, err := fmt.Sscan(j.id, &i); err != nil {
			t.Fatalf("job for transaction %q: %v", j.id, err)
		}
		i -= 1000
		want := "LEGITIMATE"
		if tr.Events[i].Fraud {
			want = "FRAUD"
		}
		if j.label != want || seen[j.id] {
			t.Fatalf("event %d (%s): got label %s (repeated %v); want %s once", i, tr.Events[i].Class, j.label, seen[j.id], want)
		}
		seen[j.id] = true
	}
}

func TestReportNamesTheModel(t *testing.T) {
	tr := generateT(t, 12, testStart)
	rep := newReport(tr, make([]outcome, len(tr.Events)))
	c := &comparison{traffic: tr, columns: []*column{{name: configPack, rep: rep}}}
	if md := c.markdown(); strings.Contains(md, "Model:") {
		t.Fatalf("a run without -train-seed names a model:\n%s", md)
	}
	precision := 0.5
	m := &trainedModel{seed: 11, id: "7", version: 3, fraud: 480, legit: 19_000,
		metrics: modelMetrics{Precision: &precision, Recall: 0.75, AUC: 0.9876}}
	m.metrics.HeldOut.Rows, m.metrics.HeldOut.Fraud = 3896, 96
	c.model = m.summary()
	want := "Model: v3 trained on seed 11 (19,480 labels: 480 FRAUD, 19,000 LEGITIMATE; "
	want2 := "active during this replay: held-out 3,896 (96 fraud): precision 0.500, recall 0.750, AUC 0.988.\n"
	if md := c.markdown(); !strings.Contains(md, want) || !strings.Contains(md, want2) {
		t.Fatalf("report lacks %q … %q:\n%s", want, want2, md)
	}
}
