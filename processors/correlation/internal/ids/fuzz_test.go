package ids

import (
	"strings"
	"testing"
)

// The fuzz targets check that no input panics and that whatever a parser
// accepts is a valid, non-zero id. The JSON scan's target, FuzzScanJSON,
// moved with the scanner to internal/jsonscan.

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Fuzz(func(t *testing.T, s string) {
		ids, r := ParseTraceparent(s)
		validOrEmpty(t, ids, r)
	})
}

func FuzzParseHexPair(f *testing.F) {
	f.Add("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	f.Fuzz(func(t *testing.T, trace, span string) {
		ids, r := ParseHexPair(trace, span)
		validOrEmpty(t, ids, r)
	})
}

func FuzzParseB3Single(f *testing.F) {
	f.Add("a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b90")
	f.Fuzz(func(t *testing.T, s string) {
		ids, r := ParseB3Single(s)
		validOrEmpty(t, ids, r)
	})
}

func FuzzParseUberTraceID(f *testing.F) {
	f.Add("abc:de:0:1")
	f.Fuzz(func(t *testing.T, s string) {
		ids, r := ParseUberTraceID(s)
		validOrEmpty(t, ids, r)
	})
}

func FuzzParseDatadog(f *testing.F) {
	f.Add("1234567890123456789", "987654321")
	f.Fuzz(func(t *testing.T, trace, span string) {
		ids, r := ParseDatadog(trace, span)
		validOrEmpty(t, ids, r)
	})
}

func FuzzScanLogfmt(f *testing.F) {
	f.Add(`level=info trace_id="abc" dd.trace_id=1`)
	m := NewMatcher(testKeys)
	f.Fuzz(func(t *testing.T, s string) {
		var found Found
		ScanLogfmt(s, m, &found)
		checkSubstrings(t, s, &found)
		// Blanks and line ends end a value unless it is quoted.
		for i := 0; i < MaxKeys; i++ {
			if v, ok := found.Get(i); ok && strings.ContainsAny(v, " \t\r\n") && !strings.Contains(s, `"`+v+`"`) {
				t.Fatalf("unquoted value %q for key %d holds a blank or a line end", v, i)
			}
		}
	})
}

func validOrEmpty(t *testing.T, ids IDs, r Reason) {
	t.Helper()
	if r != ReasonNone {
		if ids != (IDs{}) {
			t.Fatalf("rejected input (%v) returned ids %+v", r, ids)
		}
		return
	}
	if isZero(ids.Trace[:]) {
		t.Fatal("accepted an all-zero trace id")
	}
	if ids.HasSpan && isZero(ids.Span[:]) {
		t.Fatal("accepted an all-zero span id")
	}
}

// checkSubstrings asserts every found value is a part of the input.
func checkSubstrings(t *testing.T, s string, f *Found) {
	t.Helper()
	for i := 0; i < MaxKeys; i++ {
		if v, ok := f.Get(i); ok && !contains(s, v) {
			t.Fatalf("value %q for key %d is not part of the input", v, i)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
