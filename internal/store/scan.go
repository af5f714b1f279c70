package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"

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
		if f.DataTypeOID == pgtype.NumericOID && f.Format == pgtype.BinaryFormatCode && p.types[i] == reflect.TypeFor[*float64]() {
			p.plans[i] = numericFloat64{}
			continue
		}
		p.plans[i] = m.PlanScan(f.DataTypeOID, f.Format, dest[i])
	}
	return p
}

// numericFloat64 scans a binary numeric into a float64, to the float pgx
// gives (the nearest to the exact decimal), without pgx's detour through
// math/big: the feature read's sums and averages are numeric, and that
// detour was half of its scanning.
type numericFloat64 struct{}

// The sign word of PostgreSQL's binary numeric.
const (
	numericNegative = 0x4000
	numericNaN      = 0xC000
	numericPosInf   = 0xD000
	numericNegInf   = 0xF000
)

func (numericFloat64) Scan(src []byte, dst any) error {
	if src == nil {
		return errors.New("cannot scan NULL into *float64")
	}
	if len(src) < 8 {
		return fmt.Errorf("numeric: %d bytes, want at least 8", len(src))
	}
	ndigits := int(binary.BigEndian.Uint16(src))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	sign := binary.BigEndian.Uint16(src[4:])
	if len(src) != 8+2*ndigits {
		return fmt.Errorf("numeric: %d bytes for %d digits", len(src), ndigits)
	}
	out := dst.(*float64)
	switch sign {
	case numericNaN:
		*out = math.NaN()
		return nil
	case numericPosInf:
		*out = math.Inf(1)
		return nil
	case numericNegInf:
		*out = math.Inf(-1)
		return nil
	}
	if ndigits == 0 {
		*out = 0
		return nil
	}
	// The digits are base 10,000, the first of weight `weight`: written out
	// four decimal digits each, they are an integer times 10^(4·(weight-ndigits+1)).
	var buf [96]byte
	b := buf[:0]
	if sign == numericNegative {
		b = append(b, '-')
	}
	for i := range ndigits {
		d := binary.BigEndian.Uint16(src[8+2*i:])
		if d > 9999 {
			return fmt.Errorf("numeric: digit %d out of range", d)
		}
		b = append(b, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
	}
	b = append(b, 'e')
	b = strconv.AppendInt(b, int64(4*(weight-ndigits+1)), 10)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("numeric: %w", err)
	}
	*out = f
	return nil
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
