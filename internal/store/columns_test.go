package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/smartfinance/riskgraph/internal/domain"
	"github.com/smartfinance/riskgraph/internal/pgtest"
)

// TestModelsHoldEveryColumn guards RETURNING * and SELECT * scans: a column a
// table gains (a migration's generated transactions.ip_prefix did) that its
// model lacks fails every such scan at run time with INTERNAL. Each model the
// store scans whole rows into must have a field for every column of its table.
func TestModelsHoldEveryColumn(t *testing.T) {
	db, _ := pgtest.New(t)
	ctx := context.Background()
	for _, model := range []any{(*domain.Transaction)(nil), (*domain.User)(nil), (*domain.Device)(nil), (*domain.Rule)(nil),
		(*domain.RuleVersion)(nil), (*domain.List)(nil), (*domain.LoginLog)(nil), (*domain.Alert)(nil)} {
		table := db.Table(reflect.TypeOf(model).Elem())
		var columns []string
		if err := db.NewSelect().TableExpr("information_schema.columns").Column("column_name").
			Where("table_schema = current_schema() AND table_name = ?", table.Name).Scan(ctx, &columns); err != nil {
			t.Fatal(err)
		}
		if len(columns) == 0 {
			t.Fatalf("%s: no columns found for table %q", table.Type.Name(), table.Name)
		}
		for _, c := range columns {
			if _, ok := table.FieldMap[c]; !ok {
				t.Errorf("%s has no field for %s.%s: scans of whole rows fail", table.Type.Name(), table.Name, c)
			}
		}
	}
}
