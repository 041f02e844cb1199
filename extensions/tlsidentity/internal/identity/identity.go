// Package identity turns a verified client certificate into one identity
// string (subject CN or a SAN), checked to be a valid tenant id
// (internal/tenantid): no collector imports.
package identity

import (
	"crypto/x509"
	"fmt"

	"github.com/obsd-dev/obsd/internal/tenantid"
)

// Source is the certificate field an identity is read from.
type Source string

// The sources a config may name.
const (
	SubjectCN Source = "subject_cn"
	SANDNS    Source = "san_dns"
	SANURI    Source = "san_uri"
	SANEmail  Source = "san_email"
)

// ParseSource checks a configured source name.
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case SubjectCN, SANDNS, SANURI, SANEmail:
		return Source(s), nil
	}
	return "", fmt.Errorf("%q is not one of subject_cn, san_dns, san_uri, san_email", s)
}

// From reads src from cert: the subject CN, or the first SAN of that kind.
// It returns "" when the field is missing or the value is not a valid
// tenant id (internal/tenantid: empty, longer than tenantid.MaxLen, or
// holding anything but printable ASCII without spaces, '|' or ',').
func From(cert *x509.Certificate, src Source) string {
	if cert == nil {
		return ""
	}
	var v string
	switch src {
	case SubjectCN:
		v = cert.Subject.CommonName
	case SANDNS:
		if len(cert.DNSNames) > 0 {
			v = cert.DNSNames[0]
		}
	case SANURI:
		if len(cert.URIs) > 0 && cert.URIs[0] != nil {
			v = cert.URIs[0].String()
		}
	case SANEmail:
		if len(cert.EmailAddresses) > 0 {
			v = cert.EmailAddresses[0]
		}
	}
	if !tenantid.Valid(v) {
		return ""
	}
	return v
}
