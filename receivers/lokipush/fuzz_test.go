package lokipush

import (
	"testing"
	"time"

	"github.com/golang/snappy"
)

// checkDecoded asserts the invariants every successful decode must hold and
// that conversion accounts for every accepted entry.
func checkDecoded(t *testing.T, d decoded) {
	n := 0
	for _, s := range d.streams {
		if len(s.labels) == 0 {
			t.Fatalf("accepted stream without labels")
		}
		n += len(s.entries)
	}
	if n != d.entries {
		t.Fatalf("entries counted %d, streams hold %d", d.entries, n)
	}
	for _, r := range d.rejected {
		if r.reason != reasonInvalidLabels && r.reason != reasonInvalidEntry {
			t.Fatalf("unbounded reason %q", r.reason)
		}
	}
	if got := toLogs(d.streams, "t", time.Unix(1, 0)).LogRecordCount(); got != d.entries {
		t.Fatalf("converted %d records, want %d", got, d.entries)
	}
}

// FuzzDecodeProtobuf feeds arbitrary bodies to the snappy+protobuf path.
func FuzzDecodeProtobuf(f *testing.F) {
	f.Add(snappy.Encode(nil, []byte{}))
	f.Add(snappyClaiming(1 << 30))
	f.Fuzz(func(t *testing.T, body []byte) {
		plain, err := decodeSnappy(nil, body, 1<<20)
		if err != nil {
			return
		}
		d, err := decodeProtobuf(plain)
		if err != nil {
			return
		}
		checkDecoded(t, d)
	})
}

// FuzzDecodeJSON feeds arbitrary bodies to the JSON path.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(sampleJSON))
	f.Add([]byte(`{"streams":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeJSON(body)
		if err != nil {
			return
		}
		checkDecoded(t, d)
	})
}

// FuzzParseStreamLabels checks the label parser never panics and returns
// only valid, sorted, unique names.
func FuzzParseStreamLabels(f *testing.F) {
	for _, s := range []string{`{a="b"}`, `{a="b", c="d"}`, `{}`, `up{a="b"}`, `{a="\"q\""}`, `{"a.b"="c"}`, `{a="b",a="c"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := parseStreamLabels(s)
		if err != nil {
			return
		}
		for i, l := range ls {
			if !validLabelName(l.Name) {
				t.Fatalf("invalid name %q accepted", l.Name)
			}
			if i > 0 && ls[i-1].Name >= l.Name {
				t.Fatalf("labels not sorted and unique: %v", ls)
			}
		}
	})
}
