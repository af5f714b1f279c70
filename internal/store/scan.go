package store

import (
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// plannedScan scans a row of a hot statement into dest with the scan plans
// kept on the connection under key. pgx plans every column anew for each
// row set it reads, and the submission's statements (the feature read alone
// has sixty columns) are read on every submission with the same columns into
// targets of the same types: planning was a tenth of their Go time and most of
// their allocations.
type plannedScan struct {
	key  string
	dest []any
}

var _ pgx.RowScanner = plannedScan{}

// scanPlans are one statement's column plans, for the result columns and
// target types they were made for.
type scanPlans struct {
	oids    []uint32
	formats []int16
	types   []reflect.Type
	plans   []pgtype.ScanPlan
}

func (s plannedScan) ScanRow(rows pgx.Rows) error {
	fields := rows.FieldDescriptions()
	if len(fields) != len(s.dest) {
		return fmt.Errorf("store: %s: %d columns for %d targets", s.key, len(fields), len(s.dest))
	}
	data := rows.Conn().PgConn().CustomData()
	p, _ := data[s.key].(*scanPlans)
	if !p.fit(fields, s.dest) {
		p = newScanPlans(rows.Conn().TypeMap(), fields, s.dest)
		data[s.key] = p
	}
	values := rows.RawValues()
	for i, dst := range s.dest {
		if err := p.plans[i].Scan(values[i], dst); err != nil {
			return pgx.ScanArgError{ColumnIndex: i, FieldName: fields[i].Name, Err: err}
		}
	}
	return nil
}

func newScanPlans(m *pgtype.Map, fields []pgconn.FieldDescription, dest []any) *scanPlans {
	p := &scanPlans{oids: make([]uint32, len(dest)), formats: make([]int16, len(dest)),
		types: make([]reflect.Type, len(dest)), plans: make([]pgtype.ScanPlan, len(dest))}
	for i, f := range fields {
		p.oids[i], p.formats[i], p.types[i] = f.DataTypeOID, f.Format, reflect.TypeOf(dest[i])
		p.plans[i] = m.PlanScan(f.DataTypeOID, f.Format, dest[i])
	}
	return p
}

// fit tells whether p was made for these columns and targets.
func (p *scanPlans) fit(fields []pgconn.FieldDescription, dest []any) bool {
	if p == nil || len(p.plans) != len(dest) {
		return false
	}
	for i, f := range fields {
		if p.oids[i] != f.DataTypeOID || p.formats[i] != f.Format || p.types[i] != reflect.TypeOf(dest[i]) {
			return false
		}
	}
	return true
}
