// Package uid names obsd's generated Grafana dashboards: the stable uid and
// URL path of an SLO's dashboard. It has no dependencies, so that both the
// dashboard generator and alerting's dashboard_url template use the same
// names and every link opens the right dashboard.
package uid

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// Fixed uids of the dashboards that do not depend on one SLO.
const (
	Overview    = "obsd-slos-overview"
	AgentHealth = "obsd-agent-health"
	// maxLen is Grafana's limit on a dashboard uid.
	maxLen = 40
	// sloPrefix starts every per-SLO dashboard uid.
	sloPrefix = "obsd-slo-"
)

// SLO returns the stable uid of an SLO's dashboard: "obsd-slo-<name>" when
// the name is made of [A-Za-z0-9_-] and fits Grafana's 40 character limit;
// otherwise the name with other characters replaced by "-", shortened, and
// followed by "-" and 8 hex digits of the name's SHA-256, so two names never
// share a uid in practice and a name always maps to the same uid.
func SLO(name string) string {
	clean := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if clean == name && len(sloPrefix)+len(name) <= maxLen {
		return sloPrefix + name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:4])
	room := maxLen - len(sloPrefix) - len(suffix)
	if len(clean) > room {
		clean = clean[:room]
	}
	return sloPrefix + clean + suffix
}

// SLOTitle is the title of an SLO's dashboard.
func SLOTitle(name string) string { return "SLO " + name }

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

// SLOPath is the path and query of an SLO's dashboard with the SLO
// selected, to append to Grafana's base URL:
// "/d/<SLO(name)>/<slug>?var-slo=<name>" (name query-escaped).
func SLOPath(name string) string {
	return "/d/" + SLO(name) + "/" + Slug(SLOTitle(name)) + "?var-slo=" + url.QueryEscape(name)
}
