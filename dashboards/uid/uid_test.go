package uid

import (
	"strings"
	"testing"
)

func TestSLO(t *testing.T) {
	cases := []struct {
		name, slo, want string
	}{
		{"a plain short name is kept", "checkout-availability", "obsd-slo-checkout-availability"},
		{"other characters get a hashed uid", "search.frontend:spans", "obsd-slo-search-frontend-spans-"},
		{"a long name is cut and hashed", strings.Repeat("a", 60), "obsd-slo-" + strings.Repeat("a", 22) + "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SLO(tc.slo)
			if len(got) > maxLen {
				t.Errorf("SLO(%q) = %q is longer than %d", tc.slo, got, maxLen)
			}
			if strings.HasSuffix(tc.want, "-") {
				if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+8 {
					t.Errorf("SLO(%q) = %q, want %q followed by 8 hex digits", tc.slo, got, tc.want)
				}
			} else if got != tc.want {
				t.Errorf("SLO(%q) = %q, want %q", tc.slo, got, tc.want)
			}
			if SLO(tc.slo) != got {
				t.Errorf("SLO(%q) is not stable", tc.slo)
			}
		})
	}
}

func TestSLOPath(t *testing.T) {
	got := SLOPath("checkout availability")
	want := "/d/" + SLO("checkout availability") + "/slo-checkout-availability?var-slo=checkout+availability"
	if got != want {
		t.Errorf("SLOPath = %q, want %q", got, want)
	}
}
