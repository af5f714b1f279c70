package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"
)

// anomalyModel is the unsupervised anomaly model the "anomaly" configuration
// runs with, trained on the training traffic's window (no labels).
type anomalyModel struct {
	id, version string
}

func (m *anomalyModel) summary() string {
	if m.version != "" {
		return fmt.Sprintf("anomaly model v%s (id %s)", m.version, m.id)
	}
	return "anomaly model id " + m.id
}

// The forms of the anomaly model's API the simulator tries, in order, since
// a production server answers no introspection: training on a window like
// trainModel, or on whatever the server chooses; the first form the server
// accepts wins. Activation: its own mutation, else activateModel (anomaly
// models versioned and activated like models).
var (
	trainAnomalyForms = []string{
		`mutation($in: TrainAnomalyModelInput) { trainAnomalyModel(input: $in) { id version } }`,
		`mutation($in: TrainAnomalyModelInput!) { trainAnomalyModel(input: $in) { id version } }`,
		`mutation { trainAnomalyModel { id version } }`,
		`mutation { trainAnomalyModel { id } }`,
	}
	activateAnomalyForms = []string{
		`mutation($id: ID!) { activateAnomalyModel(id: $id) { id } }`,
		`mutation($id: ID!) { activateAnomalyModel(id: $id) }`,
		`mutation($id: ID!) { activateModel(id: $id) { active } }`,
	}
)

// refused reports whether the server refused the operation's form (an
// unknown field, argument or type, or an input it doesn't take: a variable's
// error is BAD_USER_INPUT) rather than failed running it.
func refused(err error, form string) bool {
	switch errorCode(err) {
	case "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED":
		return true
	case "BAD_USER_INPUT":
		return strings.Contains(form, "$in")
	}
	return false
}

// trainAnomaly trains an anomaly model on [from, to) when the server has the
// API; unavailable says why not. Failing to train is not fatal either: the
// rest of the table is still worth having.
func trainAnomaly(ctx context.Context, admin *session, from, to time.Time) (m *anomalyModel, unavailable string) {
	vars := map[string]any{"in": map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}}
	started := time.Now()
	var last error
	for _, form := range trainAnomalyForms {
		var out struct {
			TrainAnomalyModel struct {
				ID      string
				Version any
			}
		}
		v := vars
		if !strings.Contains(form, "$in") {
			v = nil
		}
		last = admin.call(ctx, form, v, &out)
		switch {
		case last == nil:
			m = &anomalyModel{id: out.TrainAnomalyModel.ID}
			if out.TrainAnomalyModel.Version != nil {
				m.version = fmt.Sprint(out.TrainAnomalyModel.Version)
			}
			log.Printf("training: %s trained in %.1f s", m.summary(), time.Since(started).Seconds())
			return m, ""
		case strings.Contains(last.Error(), `Cannot query field "trainAnomalyModel"`):
			return nil, "the server has no trainAnomalyModel mutation"
		case !refused(last, form):
			log.Printf("training: anomaly model: %v", last)
			return nil, "trainAnomalyModel failed: " + last.Error()
		}
	}
	return nil, "the server's trainAnomalyModel takes none of the forms tried (cmd/simulate/anomaly.go): " + last.Error()
}

// switchOn activates the anomaly model.
func (m *anomalyModel) switchOn(ctx context.Context, admin *session) error {
	var last error
	for _, form := range activateAnomalyForms {
		if last = admin.call(ctx, form, map[string]any{"id": m.id}, nil); last == nil || !refused(last, form) {
			break
		}
	}
	if last != nil {
		return fmt.Errorf("activate %s: %w", m.summary(), last)
	}
	return nil
}
