package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// Fixed uids of the generated dashboards that do not depend on one SLO.
const (
	OverviewDashboardUID    = "obsd-slos-overview"
	AgentHealthDashboardUID = "obsd-agent-health"
	// maxUIDLen is Grafana's limit on a dashboard uid.
	maxUIDLen = 40
	// sloUIDPrefix starts every per-SLO dashboard uid.
	sloUIDPrefix = "obsd-slo-"
)

// DashboardUID returns the stable uid of an SLO's dashboard: "obsd-slo-<name>" when
// the name is made of [A-Za-z0-9_-] and fits Grafana's 40 character limit;
// otherwise the name with other characters replaced by "-", shortened, and
// followed by "-" and 8 hex digits of the name's SHA-256, so two names never
// share a uid in practice and a name always maps to the same uid.
func DashboardUID(name string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if clean == name && len(sloUIDPrefix)+len(name) <= maxUIDLen {
		return sloUIDPrefix + name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	room := maxUIDLen - len(sloUIDPrefix) - len(suffix)
	if len(clean) > room {
		clean = clean[:room]
	}
	return sloUIDPrefix + clean + suffix
}

// DashboardTitle is the title of an SLO's dashboard.
func DashboardTitle(name string) string { return "SLO " + name }

// Slug returns Grafana's URL slug of a title: lower case, runs of other
// characters than [a-z0-9] turned into one "-". Grafana redirects a URL
// with a wrong slug, so the slug only has to be readable.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// DashboardPath is the path and query of an SLO's dashboard with the SLO
// selected, to append to Grafana's base URL:
// "/d/<DashboardUID(name)>/<slug>?var-slo=<name>" (name query-escaped).
// The dashboard generator, alerting's dashboard_url and the status page
// all link with it.
func DashboardPath(name string) string {
	return "/d/" + DashboardUID(name) + "/" + Slug(DashboardTitle(name)) + "?var-" + LabelSLO + "=" + url.QueryEscape(name)
}

// DashboardURL is the URL of an SLO's dashboard with the SLO selected:
// baseURL (a trailing "/" dropped) followed by DashboardPath(name).
func DashboardURL(baseURL, name string) string {
	return strings.TrimRight(baseURL, "/") + DashboardPath(name)
}
