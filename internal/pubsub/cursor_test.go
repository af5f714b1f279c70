package pubsub

import (
	"slices"
	"testing"
)

func TestCursor(t *testing.T) {
	tests := []struct {
		name        string
		start       int64
		ids         []int64
		wantAdmit   []bool
		wantMissing []int64
	}{
		{"in order", 10, []int64{11, 12, 13}, []bool{true, true, true}, []int64{}},
		{"duplicates", 10, []int64{11, 11, 12, 11}, []bool{true, false, true, false}, []int64{}},
		{"history before the start", 10, []int64{9, 10}, []bool{false, false}, []int64{}},
		{"commit out of order", 10, []int64{13, 11, 11}, []bool{true, true, false}, []int64{12}},
		{"gap filled last", 10, []int64{13, 12, 11}, []bool{true, true, true}, []int64{}},
		{"old gaps are forgotten", 0, []int64{2, 2 + gapSpan, 1}, []bool{true, true, false}, makeRange(3, 2+gapSpan)},
		{"a jump remembers only recent gaps", 0, []int64{5 * gapSpan, 1}, []bool{true, false}, makeRange(4*gapSpan+1, 5*gapSpan)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCursor(tt.start)
			got := make([]bool, len(tt.ids))
			for i, id := range tt.ids {
				got[i] = c.admit(id)
			}
			if !slices.Equal(got, tt.wantAdmit) {
				t.Errorf("admit(%v): got %v; want %v", tt.ids, got, tt.wantAdmit)
			}
			if got := c.missing(); !slices.Equal(got, tt.wantMissing) {
				t.Errorf("got %d missing ids %v; want %d", len(got), got[:min(len(got), 5)], len(tt.wantMissing))
			}
		})
	}
}

// makeRange is the ids from lo up to, not including, hi.
func makeRange(lo, hi int64) []int64 {
	ids := []int64{}
	for id := lo; id < hi; id++ {
		ids = append(ids, id)
	}
	return ids
}
