package tenantid

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		v    string
		want bool
	}{
		{"a plain name is a tenant", "team-a", true},
		{"a SPIFFE id is a tenant", "spiffe://cluster.local/ns/team-a/sa/app", true},
		{"an e-mail address is a tenant", "ops@team-a.example", true},
		{"MaxLen bytes are allowed", strings.Repeat("a", MaxLen), true},
		{"one byte more is refused, not truncated", strings.Repeat("a", MaxLen+1), false},
		{"the empty string is no tenant", "", false},
		{"a space is refused", "team a", false},
		{"a line break is refused (header injection)", "a\nb", false},
		{"a tab is refused", "a\tb", false},
		{"'|' is refused (Loki's multi-tenant separator)", "a|b", false},
		{"',' is refused (a header list separator)", "a,b", false},
		{"DEL is refused", "a\x7fb", false},
		{"non-ASCII is refused", "équipe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.v); got != tt.want {
				t.Fatalf("Valid(%q) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestRuleStatesTheLimit(t *testing.T) {
	if !strings.HasPrefix(Rule, "1-256 ") || MaxLen != 256 {
		t.Fatalf("Rule %q does not match MaxLen %d", Rule, MaxLen)
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"team-a", "a|b", "", "a b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !Valid(v) {
			return
		}
		if len(v) == 0 || len(v) > MaxLen || strings.ContainsAny(v, " |,\t\r\n") {
			t.Fatalf("Valid accepted %q", v)
		}
		for _, r := range v {
			if r <= ' ' || r >= 0x7f {
				t.Fatalf("Valid accepted %q with %q", v, r)
			}
		}
	})
}
