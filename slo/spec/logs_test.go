package spec

import (
	"strconv"
	"strings"
	"testing"

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
