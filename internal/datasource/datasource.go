// Package datasource manages the feeds transactions come from — their
// configuration, whose secrets are stored but never shown — and reports the
// quality of the data they deliver.
package datasource

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/auth"
	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/store"
)

// Input limits.
const (
	maxNameLen        = 100
	maxDescriptionLen = 2000
	maxConfigBytes    = 16 << 10
)

// Service manages data sources.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// New returns a data-source service.
func New(db *bun.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// Input creates a data source; Config defaults to {} and Status to ACTIVE.
type Input struct {
	Name        string
	Kind        domain.DataSourceKind
	Description *string
	Config      json.RawMessage
	Status      *domain.DataSourceStatus
}

// Update changes the fields that are set. Config, when set, replaces the
// stored one, except that a "***" value keeps the secret stored at its place.
type Update struct {
	Name        *string
	Kind        *domain.DataSourceKind
	Description *string
	Config      json.RawMessage
	Status      *domain.DataSourceStatus
}

// Create adds a data source; a name taken case-insensitively is a CONFLICT.
func (s *Service) Create(ctx context.Context, p auth.Principal, in Input) (*domain.DataSource, error) {
	name, err := validName(in.Name)
	if err != nil {
		return nil, err
	}
	if err := validKind(in.Kind); err != nil {
		return nil, err
	}
	src := &domain.DataSource{Name: name, Kind: in.Kind, Status: domain.SourceActive, StoredConfig: json.RawMessage("{}")}
	if in.Status != nil {
		if err := validStatus(*in.Status); err != nil {
			return nil, err
		}
		src.Status = *in.Status
	}
	if in.Description != nil {
		if src.Description, err = validDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Config != nil {
		if _, err := validConfig(in.Config); err != nil {
			return nil, err
		}
		src.StoredConfig = in.Config
	}
	src.CreatedAt = s.now()
	src.UpdatedAt = src.CreatedAt
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := store.InsertDataSource(ctx, tx, src); err != nil {
			return err
		}
		// The config stays out of the audit trail: it may hold credentials.
		details := map[string]any{"name": src.Name, "kind": src.Kind, "status": src.Status}
		return store.Audit(ctx, tx, &p.UserID, "datasource.created", "data_source", idString(src.ID), details, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// Update changes a data source.
func (s *Service) Update(ctx context.Context, p auth.Principal, id int64, in Update) (*domain.DataSource, error) {
	var name, description string
	var config map[string]any
	var err error
	if in.Name != nil {
		if name, err = validName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Kind != nil {
		if err := validKind(*in.Kind); err != nil {
			return nil, err
		}
	}
	if in.Status != nil {
		if err := validStatus(*in.Status); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if description, err = validDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Config != nil {
		if config, err = validConfig(in.Config); err != nil {
			return nil, err
		}
	}
	var out *domain.DataSource
	err = store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		src, err := store.DataSourceForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		out = src
		var changed []string
		if in.Name != nil && name != src.Name {
			src.Name, changed = name, append(changed, "name")
		}
		if in.Kind != nil && *in.Kind != src.Kind {
			src.Kind, changed = *in.Kind, append(changed, "kind")
		}
		if in.Description != nil && description != src.Description {
			src.Description, changed = description, append(changed, "description")
		}
		if in.Status != nil && *in.Status != src.Status {
			src.Status, changed = *in.Status, append(changed, "status")
		}
		if config != nil {
			merged, err := mergeConfig(config, src.StoredConfig)
			if err != nil {
				return err
			}
			if merged != nil {
				src.StoredConfig, changed = merged, append(changed, "config")
			}
		}
		if len(changed) == 0 {
			return nil
		}
		src.UpdatedAt = s.now()
		if err := store.UpdateDataSource(ctx, tx, src); err != nil {
			return err
		}
		// Which fields changed, never the config's values.
		details := map[string]any{"changed": changed, "name": src.Name, "kind": src.Kind, "status": src.Status}
		return store.Audit(ctx, tx, &p.UserID, "datasource.updated", "data_source", idString(id), details, auth.ClientIP(ctx))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeConfig restores the stored secrets into an incoming config and returns
// the config to store, nil when it equals the stored one.
func mergeConfig(in map[string]any, storedRaw json.RawMessage) (json.RawMessage, error) {
	stored, err := decode(storedRaw)
	if err != nil {
		return nil, err
	}
	merged, err := restore(in, stored, "config")
	if err != nil {
		return nil, err
	}
	if reflect.DeepEqual(merged, stored) {
		return nil, nil
	}
	raw, err := encode(merged)
	if err != nil {
		return nil, err
	}
	if len(raw) > maxConfigBytes {
		return nil, apperr.Invalid("config", "must be at most 16 KiB")
	}
	return raw, nil
}

// Delete removes a data source; its transactions stay, without a source.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id int64) error {
	return store.InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		name, err := store.DeleteDataSource(ctx, tx, id)
		if err != nil {
			return err
		}
		return store.Audit(ctx, tx, &p.UserID, "datasource.deleted", "data_source", idString(id), map[string]any{"name": name}, auth.ClientIP(ctx))
	})
}

// List returns every data source by name.
func (s *Service) List(ctx context.Context) ([]*domain.DataSource, error) {
	return store.ListDataSources(ctx, s.db)
}

// Get returns one data source.
func (s *Service) Get(ctx context.Context, id int64) (*domain.DataSource, error) {
	return store.DataSourceByID(ctx, s.db, id)
}

// ByIDs returns the sources among ids, in any order, for a dataloader.
func (s *Service) ByIDs(ctx context.Context, ids []int64) ([]*domain.DataSource, error) {
	return store.DataSourcesByIDs(ctx, s.db, ids)
}

func validName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > maxNameLen {
		return "", apperr.Invalid("name", "must be 1 to 100 characters")
	}
	return name, nil
}

func validDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxDescriptionLen {
		return "", apperr.Invalid("description", "must be at most 2000 characters")
	}
	return d, nil
}

func validKind(k domain.DataSourceKind) error {
	switch k {
	case domain.SourceAPI, domain.SourceDatabase, domain.SourceFile, domain.SourceStream:
		return nil
	}
	return apperr.Invalid("kind", "must be API, DATABASE, FILE or STREAM")
}

func validStatus(st domain.DataSourceStatus) error {
	switch st {
	case domain.SourceActive, domain.SourcePaused, domain.SourceError:
		return nil
	}
	return apperr.Invalid("status", "must be ACTIVE, PAUSED or ERROR")
}

// validConfig checks a config is a JSON object of at most 16 KiB and decodes it.
func validConfig(raw json.RawMessage) (map[string]any, error) {
	if len(raw) > maxConfigBytes {
		return nil, apperr.Invalid("config", "must be at most 16 KiB")
	}
	// jsonb cannot hold U+0000, and bun quietly rewrites the escape into other
	// text to store it; refuse it rather than store something else.
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return nil, apperr.Invalid("config", `must not contain \u0000`)
	}
	v, err := decode(raw)
	if err != nil {
		return nil, apperr.Invalid("config", "must be valid JSON")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, apperr.Invalid("config", "must be a JSON object")
	}
	return obj, nil
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
