package identity

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"strings"
	"testing"

	"github.com/obsd-dev/obsd/internal/tenantid"
)

func TestFrom(t *testing.T) {
	u, _ := url.Parse("spiffe://cluster.local/ns/team-a/sa/app")
	full := &x509.Certificate{
		Subject:        pkix.Name{CommonName: "team-a"},
		DNSNames:       []string{"app.team-a.svc", "other"},
		URIs:           []*url.URL{u},
		EmailAddresses: []string{"ops@team-a.example"},
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		src  Source
		want string
	}{
		{"the subject CN is the identity by default", full, SubjectCN, "team-a"},
		{"the first DNS SAN is taken", full, SANDNS, "app.team-a.svc"},
		{"a URI SAN (SPIFFE id) is taken whole", full, SANURI, "spiffe://cluster.local/ns/team-a/sa/app"},
		{"the first e-mail SAN is taken", full, SANEmail, "ops@team-a.example"},
		{"a missing SAN gives no identity", &x509.Certificate{Subject: pkix.Name{CommonName: "x"}}, SANURI, ""},
		{"no certificate gives no identity", nil, SubjectCN, ""},
		{"a CN with a space is refused", &x509.Certificate{Subject: pkix.Name{CommonName: "team a"}}, SubjectCN, ""},
		{"a CN with a line break is refused", &x509.Certificate{Subject: pkix.Name{CommonName: "a\nb"}}, SubjectCN, ""},
		{"a CN with '|' is refused (Loki multi-tenant separator)", &x509.Certificate{Subject: pkix.Name{CommonName: "a|b"}}, SubjectCN, ""},
		{"an overlong CN is refused, not truncated", &x509.Certificate{Subject: pkix.Name{CommonName: strings.Repeat("a", tenantid.MaxLen+1)}}, SubjectCN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := From(tt.cert, tt.src); got != tt.want {
				t.Fatalf("From = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []string{"subject_cn", "san_dns", "san_uri", "san_email"} {
		if _, err := ParseSource(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseSource("issuer"); err == nil {
		t.Error("an unknown source must be refused")
	}
}
