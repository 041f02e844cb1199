package ids

import (
	"strings"
	"testing"
)

func TestMatcherFlatFilterAgreesWithTheNames(t *testing.T) {
	long := strings.Repeat("k", 70)
	keys := []Key{
		{Name: "traceparent", CaseInsensitive: true},
		{Name: "trace_id"},
		{Name: "X-B3-TraceId", CaseInsensitive: true},
		{Name: "trace.id"},
	}
	tests := []struct {
		name string
		keys []Key
		path []string
		want int
	}{
		{"an exact name matches", keys, []string{"trace_id"}, 1},
		{"a case-insensitive name matches in upper case", keys, []string{"TRACEPARENT"}, 0},
		{"a case-insensitive name matches in mixed case", keys, []string{"Traceparent"}, 0},
		{"a case-insensitive header matches in lower case", keys, []string{"x-b3-traceid"}, 2},
		{"a case-sensitive name does not match another case", keys, []string{"TRACE_ID"}, -1},
		{"a field of another length is rejected", keys, []string{"method"}, -1},
		{"a field of the same length and first byte is compared", keys, []string{"trace_ix"}, -1},
		{"a dotted name matches a flat field", keys, []string{"trace.id"}, 3},
		{"a dotted name matches nested objects", keys, []string{"trace", "id"}, 3},
		{"an empty field matches nothing", keys, []string{""}, -1},
		{"a name longer than the filter still matches", []Key{{Name: long}}, []string{long}, 0},
		{"a long name does not match a short field", []Key{{Name: long}}, []string{"k"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMatcher(tt.keys)
			var p Path
			for _, s := range tt.path {
				p, _ = p.Push(s)
			}
			if got := m.Match(p); got != tt.want {
				t.Errorf("Match(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}
