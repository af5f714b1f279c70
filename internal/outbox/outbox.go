// Package outbox delivers the events the database triggers write into
// outbox_events (same transaction as the change they describe) to every sink:
// one delivery row per event and sink, claimed with FOR UPDATE SKIP LOCKED so
// that one dispatcher across all instances attempts a row at a time, in order
// per aggregate and sink, at least once.
package outbox

import (
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// EventTypes are the event types the triggers write (docs/events/<type>.json).
var EventTypes = []string{
	"decision.made", "risk_event.opened", "risk_event.updated", "alert.raised",
	"transaction.reviewed", "label.created", "rule.changed", "list.changed",
}

// Status is where a delivery stands.
type Status string

// Delivery statuses: PENDING and RETRYING are open; DELIVERED and DEAD are final.
const (
	StatusPending   Status = "PENDING"
	StatusRetrying  Status = "RETRYING"
	StatusDelivered Status = "DELIVERED"
	StatusDead      Status = "DEAD"
)

// Sink names a delivery's destination kind.
type Sink string

// The sinks.
const (
	SinkWebhook Sink = "WEBHOOK"
	SinkNATS    Sink = "NATS"
)

// Decisions selects which decision.made events the triggers write.
type Decisions string

// Decisions settings (OUTBOX_DECISIONS).
const (
	DecisionsAll          Decisions = "ALL"
	DecisionsReviewReject Decisions = "REVIEW_REJECT"
)

// Delivery is one event's delivery to one sink, with the event it carries.
type Delivery struct {
	bun.BaseModel `bun:"table:outbox_deliveries,alias:od"`

	ID             int64      `bun:"id,pk,autoincrement"`
	EventSeq       int64      `bun:"event_seq"`
	EndpointID     *int64     `bun:"endpoint_id"`
	EventType      string     `bun:"event_type"`
	AggregateType  string     `bun:"aggregate_type"`
	AggregateID    int64      `bun:"aggregate_id"`
	Status         Status     `bun:"status"`
	Attempts       int        `bun:"attempts"`
	NextAttemptAt  time.Time  `bun:"next_attempt_at"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	ResponseStatus *int       `bun:"response_status"`
	LastError      *string    `bun:"last_error"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
	ReplayOf       *int64     `bun:"replay_of"`
	CreatedAt      time.Time  `bun:"created_at"`

	// From the event.
	EventID       string          `bun:"event_id,scanonly"`
	SchemaVersion int             `bun:"schema_version,scanonly"`
	OccurredAt    time.Time       `bun:"occurred_at,scanonly"`
	Payload       json.RawMessage `bun:"payload,scanonly"`
}

// Sink is where the delivery goes.
func (d *Delivery) Sink() Sink {
	if d.EndpointID == nil {
		return SinkNATS
	}
	return SinkWebhook
}

// Envelope is the message every sink receives: the Standard Webhooks payload
// shape (type, timestamp, data) plus the event's id, schema version and
// aggregate. Body bytes are the same on every attempt.
type Envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Timestamp     time.Time       `json:"timestamp"`
	SchemaVersion int             `json:"schemaVersion"`
	Aggregate     Aggregate       `json:"aggregate"`
	Data          json.RawMessage `json:"data"`
}

// Aggregate is what an event is about; events of one aggregate arrive in order.
type Aggregate struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Body is the JSON message for d's event.
func (d *Delivery) Body() ([]byte, error) {
	return json.Marshal(Envelope{
		ID: d.EventID, Type: d.EventType, Timestamp: d.OccurredAt.UTC(), SchemaVersion: d.SchemaVersion,
		Aggregate: Aggregate{Type: d.AggregateType, ID: itoa(d.AggregateID)},
		Data:      d.Payload,
	})
}
