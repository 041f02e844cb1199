package dashboards

import (
	"strings"

	"github.com/obsd-dev/obsd/dashboards/uid"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Fixed UIDs of the dashboards that do not depend on one SLO.
const (
	OverviewUID    = uid.Overview
	AgentHealthUID = uid.AgentHealth
)

// SLOUID returns the stable uid of an SLO's dashboard (see uid.SLO).
func SLOUID(name string) string { return uid.SLO(name) }

// sloTitle is the title of an SLO's dashboard.
func sloTitle(s *spec.SLO) string { return uid.SLOTitle(s.Name) }

// Slug returns Grafana's URL slug of a title (see uid.Slug).
func Slug(title string) string { return uid.Slug(title) }

// DashboardURL returns the URL of an SLO's dashboard with the SLO selected:
// "<baseURL>/d/<SLOUID(name)>/<slug>?var-slo=<name>" (a trailing "/" of
// baseURL dropped). Alerting's templates produce the same with
// '{{ .GrafanaURL }}{{ sloDashboardPath .SLO }}'-style templates.
func DashboardURL(baseURL string, s *spec.SLO) string {
	return strings.TrimRight(baseURL, "/") + uid.SLOPath(s.Name)
}
