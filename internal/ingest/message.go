package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/scalar"
	"github.com/smartfinance/riskgraph/internal/submit"
)

// message is a SubmitTransactionInput as JSON: the GraphQL input's field
// names and value forms (IDs and amounts as strings or numbers, times in
// RFC 3339), read by the same scalar parsers.
type message struct {
	UserID           any              `json:"userId"`
	Amount           any              `json:"amount"`
	Currency         *string          `json:"currency"`
	MerchantID       *string          `json:"merchantId"`
	MerchantCategory *string          `json:"merchantCategory"`
	Channel          *string          `json:"channel"`
	DeviceID         *string          `json:"deviceId"`
	IPAddress        *string          `json:"ipAddress"`
	Location         *messageLocation `json:"location"`
	OccurredAt       any              `json:"occurredAt"`
	IdempotencyKey   *string          `json:"idempotencyKey"`
	SourceID         any              `json:"sourceId"`
}

// messageLocation is a LocationInput: both coordinates are required.
type messageLocation struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	Country   *string  `json:"country"`
	City      *string  `json:"city"`
}

// decode reads one message into the submit pipeline's input. Every error is
// BAD_USER_INPUT naming the field, as the GraphQL path would answer; the
// pipeline validates the values themselves.
func decode(data []byte) (submit.Input, error) {
	var m message
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return submit.Input{}, apperr.Invalid(typeErr.Field, "has the wrong type")
		}
		return submit.Input{}, apperr.New(apperr.BadInput, fmt.Sprintf("the message is not a SubmitTransactionInput JSON object: %s", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return submit.Input{}, apperr.New(apperr.BadInput, "the message holds more than one JSON value")
	}
	var in submit.Input
	var err error
	if m.Amount == nil {
		return in, apperr.Invalid("amount", "is required")
	}
	if in.Amount, err = scalar.UnmarshalDecimal(m.Amount); err != nil {
		return in, field("amount", err)
	}
	if in.UserID, err = optional(m.UserID, "userId", scalar.UnmarshalID); err != nil {
		return in, err
	}
	if in.SourceID, err = optional(m.SourceID, "sourceId", scalar.UnmarshalID); err != nil {
		return in, err
	}
	if in.OccurredAt, err = optional(m.OccurredAt, "occurredAt", scalar.UnmarshalTime); err != nil {
		return in, err
	}
	if m.Currency != nil {
		in.Currency = *m.Currency
	}
	in.MerchantID, in.MerchantCategory, in.Channel, in.DeviceID, in.IPAddress = m.MerchantID, m.MerchantCategory, m.Channel, m.DeviceID, m.IPAddress
	in.IdempotencyKey = m.IdempotencyKey
	if l := m.Location; l != nil {
		if l.Latitude == nil || l.Longitude == nil {
			return in, apperr.Invalid("location", "needs latitude and longitude")
		}
		in.Location = &domain.Location{Latitude: *l.Latitude, Longitude: *l.Longitude, Country: l.Country, City: l.City}
	}
	return in, nil
}

// optional parses a nullable scalar: absent and null are both nil.
func optional[T any](v any, name string, parse func(any) (T, error)) (*T, error) {
	if v == nil {
		return nil, nil
	}
	out, err := parse(v)
	if err != nil {
		return nil, field(name, err)
	}
	return &out, nil
}

// field names the input field in a scalar's error.
func field(name string, err error) error {
	var e *apperr.Error
	if errors.As(err, &e) {
		return apperr.Invalid(name, e.Message)
	}
	return apperr.Invalid(name, "is not valid")
}
