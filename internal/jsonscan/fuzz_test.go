package jsonscan

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// corrKeys are the kind of keys the correlation processor looks for.
var corrKeys = []Key{
	{Name: "trace_id"},
	{Name: "span_id"},
	{Name: "traceparent", CaseInsensitive: true},
	{Name: "trace.trace"},
	{Name: "trace.span"},
	{Name: "dd.trace_id"},
	{Name: "trace.id"},
}

// FuzzScanJSON: a Lenient scan never panics, and every value it reports
// is a part of the input.
func FuzzScanJSON(f *testing.F) {
	f.Add(`{"trace":{"trace":"aa","span":"bb"},"trace_id":"x","dd":{"trace_id":1}}`)
	fields := NewFields(corrKeys, 4)
	f.Fuzz(func(t *testing.T, s string) {
		for _, mode := range []Mode{Lenient, Strict} {
			_ = fields.Scan(s, mode, func(keys uint64, v Value) uint64 {
				if !strings.Contains(s, v.Raw) {
					t.Fatalf("value %q for keys %b is not a part of the input", v.Raw, keys)
				}
				return keys
			})
		}
	})
}

// FuzzJSONField: a Strict Find never panics, and on valid JSON objects
// agrees with encoding/json on string values.
func FuzzJSONField(f *testing.F) {
	f.Add(`{"status":503,"req":{"path":"/a\u002fb"}}`, "req.path")
	f.Add(`{"a":[1,{"b":"c"}],"b":"x"}`, "b")
	f.Add(`{"a":"\ud800"}`, "a")
	f.Fuzz(func(t *testing.T, data, path string) {
		p := strings.Split(path, ".")
		v, found, err := Find(data, p, Strict)
		var got string
		if err == nil && found {
			b, derr := v.AppendText(nil)
			if derr != nil {
				found, err = false, derr
			}
			got = string(b)
		}
		if !json.Valid([]byte(data)) || !utf8.ValidString(data) {
			return
		}
		var doc any
		if json.Unmarshal([]byte(data), &doc) != nil {
			return
		}
		obj, isObj := doc.(map[string]any)
		if !isObj {
			if err == nil {
				t.Fatalf("no error on a valid non-object %q", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("error on a valid object %q: %v", data, err)
		}
		var cur any = obj
		for _, k := range p {
			m, ok := cur.(map[string]any)
			if !ok {
				return // Find reads the first duplicate, encoding/json the last: compare only clear cases
			}
			if strings.Count(data, strconv.Quote(k)) > 1 || strings.Contains(data, `\`) {
				return
			}
			if cur, ok = m[k]; !ok {
				if found {
					t.Fatalf("found %q at %v in %q, encoding/json did not", got, p, data)
				}
				return
			}
		}
		if s, ok := cur.(string); ok && (!found || got != s) {
			t.Fatalf("got %q (found %v), want %q for %v in %q", got, found, s, p, data)
		}
	})
}

// FuzzStrictValidates: a Strict scan that reads a whole object (no key
// is ever done) accepts exactly the objects encoding/json accepts, but for
// escapes in strings it does not decode.
func FuzzStrictValidates(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c"}],"b":"x"}`)
	f.Add(`{"a":01}`)
	f.Add(`{"a":"\u00e9\n"}`)
	none := NewFields(nil, 0)
	f.Fuzz(func(t *testing.T, data string) {
		err := none.Scan(data, Strict, func(uint64, Value) uint64 { return 0 })
		trimmed := strings.TrimLeft(data, " \t\r\n")
		if !strings.HasPrefix(trimmed, "{") || !utf8.ValidString(data) {
			return
		}
		end := objectEnd(trimmed)
		valid := end > 0 && json.Valid([]byte(trimmed[:end])) && depthOK(trimmed[:end])
		if !valid && err == nil && strings.Contains(data, `\`) {
			return // escapes in names inside objects no key reads into are not checked
		}
		if valid != (err == nil) {
			t.Fatalf("scan error %v on %q; encoding/json says valid=%v", err, data, valid)
		}
	})
}

// objectEnd is the end of the first JSON object in s by encoding/json, or
// 0 when there is none.
func objectEnd(s string) int {
	dec := json.NewDecoder(strings.NewReader(s))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0
	}
	return int(dec.InputOffset())
}

// depthOK: no value inside a container at level MaxDepth (s is valid
// JSON, so brackets in strings are skipped with the strings).
func depthOK(s string) bool {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		case c == '}' || c == ']':
			depth--
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		}
		if depth >= MaxDepth {
			return false
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		}
	}
	return true
}
