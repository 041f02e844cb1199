package ids

import "testing"

var testKeys = []Key{
	{Name: "trace_id"},
	{Name: "span_id"},
	{Name: "traceparent", CaseInsensitive: true},
	{Name: "trace.trace"},
	{Name: "trace.span"},
	{Name: "dd.trace_id"},
	{Name: "trace.id"},
}

func TestScanJSON(t *testing.T) {
	m := NewMatcher(testKeys)
	tests := map[string]struct {
		in    string
		ok    bool
		found map[int]string
	}{
		"flat string fields are found": {
			`{"msg":"hi","trace_id":"abc","span_id":"def"}`, true, map[int]string{0: "abc", 1: "def"},
		},
		"a case-insensitive key matches any case": {
			`{"TraceParent":"00-x"}`, true, map[int]string{2: "00-x"},
		},
		"a case-sensitive key does not match another case": {
			`{"Trace_ID":"abc"}`, true, map[int]string{},
		},
		"nested jaeger zap fields are found": {
			`{"level":"info","trace":{"trace":"aa","span":"bb"},"x":1}`, true, map[int]string{3: "aa", 4: "bb"},
		},
		"a nested datadog number is found as its literal": {
			`{"dd":{"trace_id":12345,"span_id":"1"}}`, true, map[int]string{5: "12345"},
		},
		"a dotted flat key matches the dotted name": {
			`{"trace.id":"t1"}`, true, map[int]string{6: "t1"},
		},
		"the first occurrence wins": {
			`{"trace_id":"first","trace_id":"second"}`, true, map[int]string{0: "first"},
		},
		"values inside arrays and unrelated objects are skipped": {
			`{"a":[{"trace_id":"no"}],"b":{"trace_id":"no"},"trace_id":"yes"}`, true, map[int]string{0: "yes"},
		},
		"escaped quotes inside strings do not end them": {
			`{"msg":"say \"trace_id\":\"x\"","trace_id":"abc"}`, true, map[int]string{0: "abc"},
		},
		"white space around tokens is allowed": {
			" { \"trace_id\" : \"abc\" ,\n \"n\" : 1 } ", true, map[int]string{0: "abc"},
		},
		"a truncated object is not well formed but keeps what was found": {
			`{"trace_id":"abc","span_id":"de`, false, map[int]string{0: "abc"},
		},
		"a non-object is rejected": {`["trace_id"]`, false, map[int]string{}},
		"garbage is rejected":      {`not json`, false, map[int]string{}},
		"an empty object is fine":  {`{}`, true, map[int]string{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var f Found
			if got := ScanJSON(tt.in, m, &f); got != tt.ok {
				t.Errorf("ok = %v, want %v", got, tt.ok)
			}
			checkFound(t, &f, tt.found)
		})
	}
}

func checkFound(t *testing.T, f *Found, want map[int]string) {
	t.Helper()
	for i := 0; i < len(testKeys); i++ {
		v, ok := f.Get(i)
		w, wok := want[i]
		if ok != wok || v != w {
			t.Errorf("key %q = %q (found %v), want %q (found %v)", testKeys[i].Name, v, ok, w, wok)
		}
	}
}

func TestScanLogfmt(t *testing.T) {
	m := NewMatcher(testKeys)
	tests := map[string]struct {
		in    string
		ok    bool
		found map[int]string
	}{
		"plain pairs are found": {
			`level=info msg=hello trace_id=abc span_id=def`, true, map[int]string{0: "abc", 1: "def"},
		},
		"quoted values lose their quotes": {
			`msg="hello world" trace_id="abc"`, true, map[int]string{0: "abc"},
		},
		"dotted keys are flat": {
			`dd.trace_id=123 trace.id=t`, true, map[int]string{5: "123", 6: "t"},
		},
		"a header key matches in any case": {
			`TRACEPARENT=00-x`, true, map[int]string{2: "00-x"},
		},
		"words without = are skipped": {
			`GET /index trace_id=abc done`, true, map[int]string{0: "abc"},
		},
		"a plain line has no pairs": {`just a message`, false, map[int]string{}},
		"an unterminated quote stops the scan": {
			`trace_id=abc msg="oops`, true, map[int]string{0: "abc"},
		},
		// Docker's json-file driver keeps the line's newline in the body.
		"a trailing newline ends the last value": {
			"level=info trace_id=abc\n", true, map[int]string{0: "abc"},
		},
		"a trailing CRLF ends the last value": {
			"level=info trace_id=abc\r\n", true, map[int]string{0: "abc"},
		},
		"a newline separates pairs": {
			"trace_id=abc\nspan_id=def", true, map[int]string{0: "abc", 1: "def"},
		},
		"a newline after a quoted value separates pairs": {
			"trace_id=\"abc\"\r\nspan_id=def\n", true, map[int]string{0: "abc", 1: "def"},
		},
		"a word ending in a newline is skipped": {
			"GET\ntrace_id=abc", true, map[int]string{0: "abc"},
		},
		"only newlines have no pairs": {"\r\n\n", false, map[int]string{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var f Found
			if got := ScanLogfmt(tt.in, m, &f); got != tt.ok {
				t.Errorf("ok = %v, want %v", got, tt.ok)
			}
			checkFound(t, &f, tt.found)
		})
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	m := NewMatcher(testKeys)
	body := `{"level":"info","msg":"request served","trace":{"trace":"aa","span":"bb"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`
	var f Found
	allocs := testing.AllocsPerRun(100, func() {
		f.Reset()
		ScanJSON(body, m, &f)
		ScanLogfmt("a=b trace_id=c", m, &f)
		_, _ = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	})
	if allocs != 0 {
		t.Errorf("scan allocated %v times per run", allocs)
	}
}

func TestMatcherBounds(t *testing.T) {
	keys := make([]Key, MaxKeys+5)
	for i := range keys {
		keys[i] = Key{Name: "k"}
	}
	if n := NewMatcher(keys).Len(); n != MaxKeys {
		t.Errorf("Len = %d, want %d", n, MaxKeys)
	}
	var f Found
	f.Put(-1, "x")
	f.Put(MaxKeys, "x")
	if f.Set != 0 {
		t.Error("out of range Put must be ignored")
	}
	deep := `{"a":{"b":{"c":{"d":{"e":{"trace_id":"x"}}}}}}`
	if !ScanJSON(deep, NewMatcher([]Key{{Name: "a.b.c.d.e.trace_id"}}), &f) {
		t.Error("deep object must still be well formed")
	}
	if f.Has(0) {
		t.Error("keys deeper than the depth limit must not be found")
	}
}
