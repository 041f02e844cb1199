// Package tenantid is obsd's one rule for a tenant id: what the tenant
// processor accepts from the authenticated client or a request header,
// what the tls_identity extension accepts from a client certificate, and
// so what reaches the obsd.tenant attribute, Loki's X-Scope-OrgID header
// and the ratelimit extension's client keys.
package tenantid

// MaxLen bounds a tenant id. Longer values are refused, not truncated, so
// that two certificates or headers never collapse into one tenant.
const MaxLen = 256

// Rule says in words what Valid accepts, for error messages.
const Rule = "1-256 printable ASCII characters without spaces, '|' or ','"

// Valid reports whether v can be used as it is as a tenant id, an HTTP
// header value and a rate-limit key: 1 to MaxLen bytes of printable ASCII
// without spaces, '|' (Loki's multi-tenant separator) or ','.
func Valid(v string) bool {
	if v == "" || len(v) > MaxLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '|' || c == ',' {
			return false
		}
	}
	return true
}
