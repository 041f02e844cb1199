package spec

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLogSelector(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // field source:key/path op value
		wantErr    string
	}{
		{"an empty selector selects every record", "", nil, ""},
		{"braces alone select every record", " { } ", nil, ""},
		{"dotted attribute names need no quoting", `{http.status_code=~"5.."}`, []string{`0:http.status_code:[] =~ 5..`}, ""},
		{"prefixes choose resource, record attribute and body", `{resource.k8s.namespace.name="shop", attributes.body.x!="1", body.req.path=~'/api/.*'}`,
			[]string{`2:k8s.namespace.name:[] = shop`, `1:body.x:[] != 1`, `3::[req path] =~ /api/.*`}, ""},
		{"the whole body, a quoted name and a raw string value", "{body!~`.*debug.*`, \"odd name\"=\"x\\ty\",}",
			[]string{`3::[] !~ .*debug.*`, "0:odd name:[] = x\ty"}, ""},
		{"single quotes take \\' and a bare double quote", `{msg='it\'s "ok"'}`, []string{`0:msg:[] = it's "ok"`}, ""},
		{"a missing brace is an error", `http.status_code="500"`, nil, "want '{'"},
		{"a missing operator is an error", `{a "x"}`, nil, "want one of"},
		{"an unquoted value is an error", `{a=500}`, nil, "want a quoted string"},
		{"an unterminated string is an error", `{a="500}`, nil, "unterminated string"},
		{"a bad regular expression is an error", `{a=~"("}`, nil, "missing closing )"},
		{"an empty body path element is an error", `{body..x="1"}`, nil, "empty path element"},
		{"a prefix without key is an error", `{resource.="1"}`, nil, "names no attribute"},
		{"text after the selector is an error", `{a="1"} x`, nil, "unexpected text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := ParseLogSelector(tt.text)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, m := range sel.Matchers {
				got = append(got, strconv.Itoa(int(m.Field.Source))+":"+m.Field.Key+":["+strings.Join(m.Field.Path, " ")+"] "+m.Matcher.Type.String()+" "+m.Matcher.Value)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLogSLIMatch(t *testing.T) {
	mk := func(total, bad string, sev int32) *LogSLI {
		ts, err := ParseLogSelector(total)
		require.NoError(t, err)
		bs, err := ParseLogSelector(bad)
		require.NoError(t, err)
		return &LogSLI{Total: ts, Bad: bs, MinSeverity: sev}
	}
	rec := func(kv ...string) func(*LogField) string {
		return func(f *LogField) string {
			name := f.Name
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name           string
		sli            *LogSLI
		sev            int32
		get            func(*LogField) string
		total, badWant bool
	}{
		{"a 5xx access log is a bad event", mk(`{route=~"/api/.*"}`, `{code=~"5.."}`, 0), 0, rec("route", "/api/x", "code", "503"), true, true},
		{"a 2xx access log is a good event", mk(`{route=~"/api/.*"}`, `{code=~"5.."}`, 0), 0, rec("route", "/api/x", "code", "200"), true, false},
		{"a record outside total is no event", mk(`{route=~"/api/.*"}`, `{code=~"5.."}`, 0), 0, rec("route", "/health", "code", "500"), false, false},
		{"severity ERROR reaches min_severity ERROR", mk("", "", 17), 17, rec(), true, true},
		{"FATAL reaches min_severity ERROR", mk("", "", 17), 21, rec(), true, true},
		{"WARN4 stays under ERROR", mk("", "", 17), 16, rec(), true, false},
		{"min_severity and bad both must hold", mk("", `{code=~"5.."}`, 17), 17, rec("code", "200"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, bad := tt.sli.Match(tt.sev, tt.get)
			assert.Equal(t, tt.total, total, "total")
			assert.Equal(t, tt.badWant, bad, "bad")
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]int32{"ERROR": 17, "error": 17, "Warn": 13, "fatal": 21, "trace": 1, "20": 20} {
		got, err := ParseSeverity(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "ERR", "0", "25", "loud"} {
		_, err := ParseSeverity(in)
		assert.Error(t, err, in)
	}
	assert.Equal(t, int32(17), SeverityFromText("err"))
	assert.Equal(t, int32(13), SeverityFromText("WARNING"))
	assert.Equal(t, int32(0), SeverityFromText("something"))
}

func TestLogSLIValidation(t *testing.T) {
	tests := []struct{ name, sli, want string }{
		{"a log SLI needs bad or min_severity", `logs: {total: '{a="1"}'}`, `'sli.logs' must set 'bad'`},
		{"an invalid selector names its key", `logs: {bad: '{a=5}'}`, `'sli.logs.bad' is not a valid log selector`},
		{"an unknown severity is an error", `logs: {min_severity: LOUD}`, `'sli.logs.min_severity' "LOUD" is not a severity`},
		{"a bad group_by field is an error", `logs: {min_severity: ERROR, group_by: ["body..x"]}`, `'sli.logs.group_by[0]'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "version: obsd/v1\nslos:\n  - name: x\n    service: s\n    objective: 99\n    sli:\n      " + tt.sli + "\n"
			_, err := Parse("f.yaml", []byte(doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGroupByLimit(t *testing.T) {
	doc := func(limit string) string {
		return "version: obsd/v1\nslos:\n  - name: x\n    service: s\n    objective: 99\n" + limit +
			"    sli:\n      logs: {min_severity: ERROR, group_by: [http.route, body.tenant]}\n"
	}
	slos, err := Parse("f.yaml", []byte(doc("")))
	require.NoError(t, err)
	assert.Equal(t, DefaultGroupByLimit, slos[0].GroupByLimit, "absent means the default")
	assert.Equal(t, []string{"http.route", "body.tenant"}, slos[0].GroupBy())
	slos, err = Parse("f.yaml", []byte(doc("    group_by_limit: 0\n")))
	require.NoError(t, err)
	assert.Equal(t, DefaultGroupByLimit, slos[0].Limit(), "0 means the default")
	slos, err = Parse("f.yaml", []byte(doc("    group_by_limit: 5\n")))
	require.NoError(t, err)
	assert.Equal(t, 5, slos[0].Limit())
	_, err = Parse("f.yaml", []byte(doc("    group_by_limit: -1\n")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `'group_by_limit' must be at least 1`)
}

func TestJSONField(t *testing.T) {
	tests := []struct {
		name, data, path string
		want             string
		found, wantErr   bool
	}{
		{"a top-level number", `{"status":503,"path":"/a"}`, "status", "503", true, false},
		{"a string", `{"status":503,"path":"/a"}`, "path", "/a", true, false},
		{"a nested field", `{"req":{"method":"GET","h":{"x":true}}}`, "req.h.x", "true", true, false},
		{"escapes are decoded", `{"m":"a\"b\\c\u00e9\ud83d\ude00"}`, "m", "a\"b\\cé😀", true, false},
		{"null is found and empty", `{"a":null}`, "a", "", true, false},
		{"an object comes back as raw JSON", `{"a":{"b": [1, 2]}}`, "a", `{"b": [1, 2]}`, true, false},
		{"an absent field after skipping every kind of value", `{"s":"x","n":-1.5e3,"b":false,"z":null,"o":{"k":[{},[]]},"a":[1,"2"]}`, "missing", "", false, false},
		{"a path through a non-object is absent", `{"a":"x"}`, "a.b", "", false, false},
		{"the first of duplicate keys wins", `{"a":1,"a":2}`, "a", "1", true, false},
		{"not an object", `[1,2]`, "a", "", false, true},
		{"plain text", `GET /a 200`, "a", "", false, true},
		{"truncated JSON", `{"a":1,`, "b", "", false, true},
		{"a bad number", `{"a":01}`, "a", "", false, true},
		{"a control character in a string", "{\"a\":\"x\ny\"}", "a", "", false, true},
		{"deep nesting is refused", `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "b", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, _, err := JSONField(tt.data, strings.Split(tt.path, "."), nil)
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrNotJSONObject)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.found, found)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzJSONField: JSONField never panics, and on valid JSON objects agrees
// with encoding/json on scalar values.
func FuzzJSONField(f *testing.F) {
	f.Add(`{"status":503,"req":{"path":"/a\u002fb"}}`, "req.path")
	f.Add(`{"a":[1,{"b":"c"}],"b":"x"}`, "b")
	f.Add(`{"a":"\ud800"}`, "a")
	f.Fuzz(func(t *testing.T, data, path string) {
		p := strings.Split(path, ".")
		got, found, _, err := JSONField(data, p, nil)
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
		var v any = obj
		for _, k := range p {
			m, ok := v.(map[string]any)
			if !ok {
				return // JSONField reads the first duplicate, encoding/json the last: compare only clear cases
			}
			if strings.Count(data, strconv.Quote(k)) > 1 || strings.Contains(data, `\`) {
				return
			}
			if v, ok = m[k]; !ok {
				if found {
					t.Fatalf("found %q at %v in %q, encoding/json did not", got, p, data)
				}
				return
			}
		}
		if s, ok := v.(string); ok && (!found || got != s) {
			t.Fatalf("got %q (found %v), want %q for %v in %q", got, found, s, p, data)
		}
	})
}

// FuzzLogSelector: the parser never panics; what it accepts it accepts again.
func FuzzLogSelector(f *testing.F) {
	f.Add(`{http.status_code=~"5..", body.path=~'/api/.*'}`)
	f.Add("{body!~`x`, \"a b\"!=\"\\u00e9\"}")
	f.Fuzz(func(t *testing.T, text string) {
		sel, err := ParseLogSelector(text)
		if err != nil {
			return
		}
		for _, m := range sel.Matchers {
			if m.Matcher == nil {
				t.Fatalf("nil matcher from %q", text)
			}
			_ = m.Matcher.Matches("x")
		}
	})
}

func BenchmarkJSONField(b *testing.B) {
	data := `{"ts":"2026-01-01T00:00:00Z","level":"info","req":{"method":"GET","path":"/api/pay"},"status":503,"bytes":1234}`
	path := []string{"status"}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		_, _, buf, _ = JSONField(data, path, buf)
	}
}
