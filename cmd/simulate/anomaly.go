package main

import (
	"context"
	"fmt"
	"log"
	"time"
)

// anomalyModel is the unsupervised anomaly model the "anomaly" configuration
// runs with, trained on the training traffic's window (no labels).
type anomalyModel struct {
	id      string
	version int
}

func (m *anomalyModel) summary() string {
	return fmt.Sprintf("anomaly model v%d (id %s)", m.version, m.id)
}

// trainAnomaly trains an anomaly model on [from, to), without labels.
// Failing to train is not fatal: the rest of the table is still worth
// having, and unavailable says why that column is missing.
func trainAnomaly(ctx context.Context, admin *session, from, to time.Time) (m *anomalyModel, unavailable string) {
	started := time.Now()
	var out struct {
		TrainAnomalyModel struct {
			ID      string
			Version int
		}
	}
	err := admin.call(ctx, `mutation($in: TrainAnomalyModelInput) { trainAnomalyModel(input: $in) { id version } }`,
		map[string]any{"in": map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}}, &out)
	if err != nil {
		log.Printf("training: anomaly model: %v", err)
		return nil, "trainAnomalyModel failed: " + err.Error()
	}
	m = &anomalyModel{id: out.TrainAnomalyModel.ID, version: out.TrainAnomalyModel.Version}
	log.Printf("training: %s trained in %.1f s", m.summary(), time.Since(started).Seconds())
	return m, ""
}

// switchOn activates the anomaly model on every instance.
func (m *anomalyModel) switchOn(ctx context.Context, admin *session) error {
	if err := admin.call(ctx, `mutation($id: ID!) { activateAnomalyModel(id: $id) { id } }`, map[string]any{"id": m.id}, nil); err != nil {
		return fmt.Errorf("activate %s: %w", m.summary(), err)
	}
	return nil
}
