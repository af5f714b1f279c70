package pubsub

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/store"
)

// NotifyModelChanged signals every instance, once db's transaction commits,
// that the active model may have changed; the Listener reloads it then, and
// after every reconnect in case a notification was missed.
func NotifyModelChanged(ctx context.Context, db bun.IDB, modelID int64) error {
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", ModelsChannel, strconv.FormatInt(modelID, 10)); err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify model %d changed: %w", modelID, err))
	}
	return nil
}

// NotifyListChanged signals every instance, once db's transaction commits,
// that the list listID changed; the Listener reloads that list then, and
// every list after a reconnect in case a notification was missed.
func NotifyListChanged(ctx context.Context, db bun.IDB, listID int64) error {
	if _, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?)", ListsChannel, strconv.FormatInt(listID, 10)); err != nil {
		return store.Classify(fmt.Errorf("pubsub: notify list %d changed: %w", listID, err))
	}
	return nil
}
