package gqlhttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// PersistedQueries is automatic persisted queries (Apollo's protocol) as
// gqlgen's extension.AutomaticPersistedQuery answers them — the same
// messages and PERSISTED_QUERY_NOT_FOUND on a miss — reading the
// persistedQuery extension directly instead of through a reflective decoder,
// which cost a few dozen allocations on every request of a client that
// sends hashes.
type PersistedQueries struct {
	Cache graphql.Cache[string]
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = PersistedQueries{}

// ExtensionName names the extension for gqlgen.
func (PersistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

// Validate requires a cache.
func (p PersistedQueries) Validate(graphql.ExecutableSchema) error {
	if p.Cache == nil {
		return errors.New("PersistedQueries.Cache can not be nil")
	}
	return nil
}

// MutateOperationParameters fills in the query a hash names, or registers
// the query sent with its hash.
func (p PersistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext := raw.Extensions["persistedQuery"]
	if ext == nil {
		return nil
	}
	fields, ok := ext.(map[string]any)
	if !ok {
		return gqlerror.Errorf("invalid APQ extension data")
	}
	hash, hashOK := fields["sha256Hash"].(string)
	version, versionOK := wholeNumber(fields["version"])
	if _, present := fields["sha256Hash"]; present && !hashOK || fields["version"] != nil && !versionOK {
		return gqlerror.Errorf("invalid APQ extension data")
	}
	if version != 1 {
		return gqlerror.Errorf("unsupported APQ version")
	}
	if raw.Query == "" {
		if raw.Query, ok = p.Cache.Get(ctx, hash); !ok {
			err := gqlerror.Errorf("PersistedQueryNotFound")
			errcode.Set(err, "PERSISTED_QUERY_NOT_FOUND")
			return err
		}
		return nil
	}
	sum := sha256.Sum256([]byte(raw.Query))
	if hex.EncodeToString(sum[:]) != hash {
		return gqlerror.Errorf("provided APQ hash does not match query")
	}
	p.Cache.Add(ctx, hash, raw.Query)
	return nil
}

// wholeNumber is v as an integer when it is one: JSON numbers decode to
// float64, or to json.Number where the transport asks for it (GET).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), n == float64(int64(n))
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}
