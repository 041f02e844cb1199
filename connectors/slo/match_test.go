package slo

import (
	"regexp"
	"testing"
)

func TestAnchoredMatcher(t *testing.T) {
	tests := []struct {
		name    string
		pattern string // "" means no pattern
		input   string
		want    bool
		literal bool
	}{
		{"no pattern matches everything", "", "/anything", true, false},
		{"a literal route matches itself", "/r/3", "/r/3", true, true},
		{"a literal route does not match a longer one", "/r/3", "/r/30", false, true},
		{"a literal route does not match a prefix", "/r/3", "/r/", false, true},
		{"a regular expression is anchored", "/checkout/.*", "/checkout/pay", true, false},
		{"an anchored regular expression refuses a prefix match", "/checkout/.*", "x/checkout/pay", false, false},
		{"a dot is regular-expression syntax, not a literal", "/v1.0", "/v1x0", true, false},
		{"alternatives are not literals", "GET|POST", "POST", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var re *regexp.Regexp
			if tt.pattern != "" {
				re = regexp.MustCompile("^(?:" + tt.pattern + ")$")
			}
			m := newAnchoredMatcher(re)
			if m.isLit != tt.literal {
				t.Errorf("literal = %v, want %v", m.isLit, tt.literal)
			}
			if got := m.match(tt.input); got != tt.want {
				t.Errorf("match(%q) = %v, want %v", tt.input, got, tt.want)
			}
			if re != nil && m.match(tt.input) != re.MatchString(tt.input) {
				t.Errorf("disagrees with the regexp on %q", tt.input)
			}
		})
	}
}
