package contract

import (
	"regexp"
	"strings"
	"testing"
)

func TestDashboardUID(t *testing.T) {
	cases := []struct {
		name, slo, want string
	}{
		{"a plain short name is kept", "checkout-availability", "obsd-slo-checkout-availability"},
		{"other characters get a hashed uid", "search.frontend:spans", "obsd-slo-search-frontend-spans-"},
		{"a long name is cut and hashed", strings.Repeat("a", 60), "obsd-slo-" + strings.Repeat("a", 22) + "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DashboardUID(tc.slo)
			if len(got) > maxUIDLen {
				t.Errorf("DashboardUID(%q) = %q is longer than %d", tc.slo, got, maxUIDLen)
			}
			if strings.HasSuffix(tc.want, "-") {
				if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+8 {
					t.Errorf("DashboardUID(%q) = %q, want %q followed by 8 hex digits", tc.slo, got, tc.want)
				}
			} else if got != tc.want {
				t.Errorf("DashboardUID(%q) = %q, want %q", tc.slo, got, tc.want)
			}
			if DashboardUID(tc.slo) != got {
				t.Errorf("DashboardUID(%q) is not stable", tc.slo)
			}
		})
	}
}

func TestDashboardPath(t *testing.T) {
	got := DashboardPath("checkout availability")
	want := "/d/" + DashboardUID("checkout availability") + "/slo-checkout-availability?var-slo=checkout+availability"
	if got != want {
		t.Errorf("DashboardPath = %q, want %q", got, want)
	}
}

var uidChars = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)

func TestDashboardUIDsStayApart(t *testing.T) {
	cases := []struct{ name, a, b string }{
		{"cleaning does not merge a dot with a dash", DashboardUID("a.b"), DashboardUID("a-b")},
		{"nor a dot with a colon", DashboardUID("a.b"), DashboardUID("a:b")},
		{"an SLO named overview does not take the overview's uid", OverviewDashboardUID, DashboardUID("overview")},
		{"an SLO named agent-health does not take the agent dashboard's uid", AgentHealthDashboardUID, DashboardUID("agent-health")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a == tc.b {
				t.Errorf("both are %q", tc.a)
			}
		})
	}
}

func TestDashboardURL(t *testing.T) {
	want := "https://grafana.example/d/obsd-slo-checkout-availability/slo-checkout-availability?var-slo=checkout-availability"
	for _, base := range []string{"https://grafana.example/", "https://grafana.example"} {
		if got := DashboardURL(base, "checkout-availability"); got != want {
			t.Errorf("DashboardURL(%q) = %q, want %q", base, got, want)
		}
	}
	if got, want := DashboardURL("", "a.b:c"), "/d/"+DashboardUID("a.b:c")+"/slo-a-b-c?var-slo=a.b%3Ac"; got != want {
		t.Errorf("DashboardURL of an odd name = %q, want %q", got, want)
	}
}

func TestSlug(t *testing.T) {
	cases := map[string]string{
		"SLO checkout-availability": "slo-checkout-availability",
		"  obsd agent health!! ":    "obsd-agent-health",
		"a.:b":                      "a-b",
	}
	for title, want := range cases {
		if got := Slug(title); got != want {
			t.Errorf("Slug(%q) = %q, want %q", title, got, want)
		}
	}
}

func FuzzDashboardUID(f *testing.F) {
	f.Add("checkout-availability")
	f.Add("search.frontend:spans-errors-for-the-public-search-api")
	f.Fuzz(func(t *testing.T, name string) {
		if !uidChars.MatchString(DashboardUID(name)) {
			t.Fatalf("uid %q of %q is not a legal Grafana uid", DashboardUID(name), name)
		}
	})
}
