package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/smartfinance/riskgraph/internal/apperr"
	"github.com/smartfinance/riskgraph/internal/domain"
)

// mapDataSourceErr names the conflict a taken source name causes. The cause is
// dropped for the reason mapRuleErr gives.
func mapDataSourceErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "data_sources_name_key" {
		return &apperr.Error{Code: apperr.Conflict, Field: "name", Message: "a data source with this name exists"}
	}
	return mapErr(err)
}

// selectDataSources selects sources with LastSeenAt derived from their newest
// transaction (an index probe on transactions_source_time_idx each), so no
// row is updated per transaction; the stored last_seen_at column is ignored.
func selectDataSources(db bun.IDB, dst any) *bun.SelectQuery {
	return db.NewSelect().Model(dst).ExcludeColumn("last_seen_at").
		ColumnExpr("(SELECT max(t.occurred_at) FROM transactions AS t WHERE t.source_id = ds.id) AS last_seen_at")
}

// InsertDataSource creates a source; a name taken case-insensitively is a CONFLICT on "name".
func InsertDataSource(ctx context.Context, db bun.IDB, s *domain.DataSource) error {
	_, err := db.NewInsert().Model(s).ExcludeColumn("last_seen_at").Returning("id").Exec(ctx)
	return mapDataSourceErr(err)
}

// DataSourceForUpdate loads one source, stored config included, and locks it until the transaction ends.
func DataSourceForUpdate(ctx context.Context, db bun.IDB, id int64) (*domain.DataSource, error) {
	s := new(domain.DataSource)
	err := selectDataSources(db, s).Where("ds.id = ?", id).For("UPDATE OF ds").Scan(ctx)
	return s, mapErr(err)
}

// UpdateDataSource saves s's editable columns.
func UpdateDataSource(ctx context.Context, db bun.IDB, s *domain.DataSource) error {
	res, err := db.NewUpdate().Model(s).
		Column("name", "kind", "description", "config", "status", "updated_at").
		WherePK().Exec(ctx)
	if err != nil {
		return mapDataSourceErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return apperr.ErrNotFound
	}
	return nil
}

// DeleteDataSource removes a source and returns its name; its transactions'
// source_id becomes NULL through the foreign key.
func DeleteDataSource(ctx context.Context, db bun.IDB, id int64) (string, error) {
	var name string
	_, err := db.NewDelete().Model((*domain.DataSource)(nil)).Where("id = ?", id).Returning("name").Exec(ctx, &name)
	return name, mapErr(err)
}

// DataSourceByID loads one source.
func DataSourceByID(ctx context.Context, db bun.IDB, id int64) (*domain.DataSource, error) {
	s := new(domain.DataSource)
	err := selectDataSources(db, s).Where("ds.id = ?", id).Scan(ctx)
	return s, mapErr(err)
}

// DataSourcesByIDs loads sources in any order; missing IDs are absent.
func DataSourcesByIDs(ctx context.Context, db bun.IDB, ids []int64) ([]*domain.DataSource, error) {
	var ss []*domain.DataSource
	err := selectDataSources(db, &ss).Where("ds.id IN (?)", bun.List(ids)).Scan(ctx)
	return ss, mapErr(err)
}

// ListDataSources loads every source by name.
func ListDataSources(ctx context.Context, db bun.IDB) ([]*domain.DataSource, error) {
	var ss []*domain.DataSource
	err := selectDataSources(db, &ss).OrderExpr("lower(ds.name), ds.id").Scan(ctx)
	return ss, mapErr(err)
}

// QualityDay is one UTC day of transactions, scanned from the start of the
// window. Count covers the whole part of the day that was scanned; InRange and
// the missing counts only the part inside the requested range.
type QualityDay struct {
	Day             time.Time
	Count           int
	InRange         int
	MissingDevice   int
	MissingIP       int
	MissingLocation int
	MissingMerchant int
}

// TransactionQuality reads per-day counts of the transactions occurring in
// [scanFrom, to), of one source or (nil) all; the missing-field counts cover
// [from, to). Days without transactions are absent.
//
// bun inlines arguments, so the planner folds "source IS NULL OR …" away and
// can use transactions_source_time_idx for one source.
func TransactionQuality(ctx context.Context, db bun.IDB, sourceID *int64, scanFrom, from, to time.Time) ([]QualityDay, error) {
	var days []QualityDay
	err := db.NewRaw(`
		SELECT date_trunc('day', occurred_at, 'UTC') AS day,
			count(*) AS count,
			count(*) FILTER (WHERE occurred_at >= ?1) AS in_range,
			count(*) FILTER (WHERE occurred_at >= ?1 AND device_id IS NULL) AS missing_device,
			count(*) FILTER (WHERE occurred_at >= ?1 AND ip_address IS NULL) AS missing_ip,
			count(*) FILTER (WHERE occurred_at >= ?1 AND latitude IS NULL) AS missing_location,
			count(*) FILTER (WHERE occurred_at >= ?1 AND merchant_id IS NULL) AS missing_merchant
		FROM transactions
		WHERE occurred_at >= ?0 AND occurred_at < ?2 AND (?3::bigint IS NULL OR source_id = ?3)
		GROUP BY 1
		ORDER BY 1`, scanFrom, from, to, sourceID).Scan(ctx, &days)
	if err != nil {
		return nil, mapErr(err)
	}
	for i := range days {
		days[i].Day = days[i].Day.UTC()
	}
	return days, nil
}

// FirstOccurredAt is when the oldest transaction of one source or (nil) all
// occurred, nil when there is none; an index endpoint read either way.
func FirstOccurredAt(ctx context.Context, db bun.IDB, sourceID *int64) (*time.Time, error) {
	var first *time.Time
	err := db.NewRaw("SELECT min(occurred_at) FROM transactions WHERE (?0::bigint IS NULL OR source_id = ?0)", sourceID).Scan(ctx, &first)
	return first, mapErr(err)
}

// SourceFreshness reads the newest transaction time of each data source by
// name, then of transactions without a source as "(none)"; with sourceID, of
// that source alone (no rows when it does not exist). AgeSeconds is left to the caller's clock.
func SourceFreshness(ctx context.Context, db bun.IDB, sourceID *int64) ([]*domain.SourceFreshness, error) {
	var out []*domain.SourceFreshness
	q := db.NewSelect().TableExpr("data_sources AS ds").
		ColumnExpr("ds.id AS source_id, ds.name AS source_name").
		ColumnExpr("(SELECT max(t.occurred_at) FROM transactions AS t WHERE t.source_id = ds.id) AS newest_at")
	if sourceID != nil {
		q = q.Where("ds.id = ?", *sourceID)
	}
	if err := q.OrderExpr("lower(ds.name), ds.id").Scan(ctx, &out); err != nil {
		return nil, mapErr(err)
	}
	if sourceID == nil {
		none := &domain.SourceFreshness{SourceName: "(none)"}
		err := db.NewRaw("SELECT max(occurred_at) FROM transactions WHERE source_id IS NULL").Scan(ctx, &none.NewestAt)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, none)
	}
	for _, f := range out {
		if f.NewestAt != nil {
			utc := f.NewestAt.UTC()
			f.NewestAt = &utc
		}
	}
	return out, nil
}
