package match

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

func TestLogSLIMatch(t *testing.T) {
	mk := func(total, bad string, sev int32) *spec.LogSLI {
		ts, err := spec.ParseLogSelector(total)
		require.NoError(t, err)
		bs, err := spec.ParseLogSelector(bad)
		require.NoError(t, err)
		return &spec.LogSLI{Total: ts, Bad: bs, MinSeverity: sev}
	}
	rec := func(kv ...string) func(*spec.LogField) string {
		return func(f *spec.LogField) string {
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
		sli            *spec.LogSLI
		sev            int32
		get            func(*spec.LogField) string
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
			total, bad := Log(tt.sli, tt.sev, tt.get)
			assert.Equal(t, tt.total, total, "total")
			assert.Equal(t, tt.badWant, bad, "bad")
		})
	}
}

func TestSeverityFromText(t *testing.T) {
	assert.Equal(t, int32(17), SeverityFromText("err"))
	assert.Equal(t, int32(13), SeverityFromText("WARNING"))
	assert.Equal(t, int32(0), SeverityFromText("something"))
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

func BenchmarkJSONField(b *testing.B) {
	data := `{"ts":"2026-01-01T00:00:00Z","level":"info","req":{"method":"GET","path":"/api/pay"},"status":503,"bytes":1234}`
	path := []string{"status"}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		_, _, buf, _ = JSONField(data, path, buf)
	}
}
