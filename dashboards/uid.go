package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Fixed UIDs of the dashboards that do not depend on one SLO.
const (
	OverviewUID    = "obsd-slos-overview"
	AgentHealthUID = "obsd-agent-health"
	// maxUID is Grafana's limit on a dashboard uid.
	maxUID = 40
	// sloUIDPrefix starts every per-SLO dashboard uid.
	sloUIDPrefix = "obsd-slo-"
)

// SLOUID returns the stable uid of an SLO's dashboard: "obsd-slo-<name>"
// when the name is made of [A-Za-z0-9_-] and fits Grafana's 40 character
// limit; otherwise the name with other characters replaced by "-",
// shortened, and followed by "-" and 8 hex digits of the name's SHA-256,
// so two names never share a uid in practice and a name always maps to
// the same uid.
func SLOUID(name string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if clean == name && len(sloUIDPrefix)+len(name) <= maxUID {
		return sloUIDPrefix + name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	room := maxUID - len(sloUIDPrefix) - len(suffix)
	if len(clean) > room {
		clean = clean[:room]
	}
	return sloUIDPrefix + clean + suffix
}

// sloTitle is the title of an SLO's dashboard.
func sloTitle(s *spec.SLO) string { return "SLO " + s.Name }

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

// DashboardURL returns the URL of an SLO's dashboard with the SLO
// selected: "<baseURL>/d/<SLOUID(name)>/<slug>?var-slo=<name>" (name
// query-escaped, a trailing "/" of baseURL dropped). The alerting
// template produces the same with
// {{ .GrafanaURL }}/d/<uid>/<slug>?var-slo=<name>.
func DashboardURL(baseURL string, s *spec.SLO) string {
	return strings.TrimRight(baseURL, "/") + "/d/" + SLOUID(s.Name) + "/" + Slug(sloTitle(s)) +
		"?var-slo=" + url.QueryEscape(s.Name)
}
