package dashboards

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/obsd-dev/obsd/slo/spec"
)

var uidChars = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

func TestSLOUID(t *testing.T) {
	tests := []struct {
		name, slo, want string
	}{
		{"a short plain name is kept readable", "checkout-availability", "obsd-slo-checkout-availability"},
		{"a name with dots and colons is cleaned and hashed", "a.b:c", "obsd-slo-a-b-c-" + SLOUID("a.b:c")[15:]},
		{"a name too long for 40 characters is cut and hashed", "x123456789012345678901234567890123456789", "obsd-slo-x123456789012345678901-" + SLOUID("x123456789012345678901234567890123456789")[32:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SLOUID(tt.slo)
			assert.Equal(t, tt.want, got)
			assert.Regexp(t, uidChars, got)
			assert.Equal(t, got, SLOUID(tt.slo), "stable")
		})
	}
	assert.NotEqual(t, SLOUID("a.b"), SLOUID("a-b"), "cleaning does not merge names")
	assert.NotEqual(t, SLOUID("a.b"), SLOUID("a:b"))
	assert.NotEqual(t, OverviewUID, SLOUID("overview"))
}

func TestDashboardURL(t *testing.T) {
	s := &spec.SLO{Name: "checkout-availability"}
	want := "https://grafana.example/d/obsd-slo-checkout-availability/slo-checkout-availability?var-slo=checkout-availability"
	assert.Equal(t, want, DashboardURL("https://grafana.example/", s))
	assert.Equal(t, want, DashboardURL("https://grafana.example", s))
	odd := &spec.SLO{Name: "a.b:c"}
	assert.Equal(t, "/d/"+SLOUID("a.b:c")+"/slo-a-b-c?var-slo=a.b%3Ac", DashboardURL("", odd))
}

func TestSlug(t *testing.T) {
	assert.Equal(t, "slo-checkout-availability", Slug("SLO checkout-availability"))
	assert.Equal(t, "obsd-agent-health", Slug("  obsd agent health!! "))
	assert.Equal(t, "a-b", Slug("a.:b"))
}

func FuzzSLOUID(f *testing.F) {
	f.Add("checkout-availability")
	f.Add("search.frontend:spans-errors-for-the-public-search-api")
	f.Fuzz(func(t *testing.T, name string) {
		if !uidChars.MatchString(SLOUID(name)) {
			t.Fatalf("uid %q of %q is not a legal Grafana uid", SLOUID(name), name)
		}
	})
}
