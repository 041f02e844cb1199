// Package testcerts generates throwaway certificate authorities and
// certificates for tests (ECDSA P-256, valid for one hour, 127.0.0.1, ::1
// and localhost SANs), written to a test's temporary directory. Nothing it
// makes is meant to be checked in.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Validity is how long every generated certificate is valid (from a minute
// ago, to tolerate clock skew between processes).
const Validity = time.Hour

// CA is a certificate authority that signs server and client certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// CertPEM is the CA certificate, PEM-encoded.
	CertPEM []byte
	// CertFile is where CertPEM was written.
	CertFile string
	dir      string
}

// Pair is a certificate and its key, in memory and on disk.
type Pair struct {
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string
	// TLS is the pair ready for a tls.Config.
	TLS tls.Certificate
}

// Options name a leaf certificate's identities.
type Options struct {
	// CommonName is the subject CN.
	CommonName string
	// DNSNames are extra DNS SANs (localhost is always added for servers).
	DNSNames []string
	// URIs are URI SANs, e.g. spiffe://cluster/ns/team-a/sa/app.
	URIs []string
	// Emails are e-mail SANs.
	Emails []string
}

// NewCA makes a self-signed CA named name and writes its certificate to
// t.TempDir()/<name>-ca.pem.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name + " test CA", Organization: []string{"obsd tests"}},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(Validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testcerts: create CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testcerts: parse CA: %v", err)
	}
	dir := t.TempDir()
	ca := &CA{Cert: cert, Key: key, CertPEM: pemBlock("CERTIFICATE", der), dir: dir}
	ca.CertFile = write(t, dir, name+"-ca.pem", ca.CertPEM)
	return ca
}

// Pool is a cert pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Server issues a server certificate for 127.0.0.1, ::1 and localhost (plus
// opts' names), written to files named after opts.CommonName.
func (ca *CA) Server(t testing.TB, opts Options) *Pair {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "localhost"
	}
	opts.DNSNames = append([]string{"localhost"}, opts.DNSNames...)
	return ca.issue(t, opts, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
}

// Client issues a client certificate with opts' identities.
func (ca *CA) Client(t testing.TB, opts Options) *Pair {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "client"
	}
	return ca.issue(t, opts, x509.ExtKeyUsageClientAuth, nil)
}

func (ca *CA) issue(t testing.TB, opts Options, usage x509.ExtKeyUsage, ips []net.IP) *Pair {
	t.Helper()
	key := newKey(t)
	uris := make([]*url.URL, 0, len(opts.URIs))
	for _, s := range opts.URIs {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("testcerts: URI SAN %q: %v", s, err)
		}
		uris = append(uris, u)
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial(t),
		Subject:        pkix.Name{CommonName: opts.CommonName},
		NotBefore:      time.Now().Add(-time.Minute),
		NotAfter:       time.Now().Add(Validity),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{usage},
		DNSNames:       opts.DNSNames,
		IPAddresses:    ips,
		URIs:           uris,
		EmailAddresses: opts.Emails,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("testcerts: issue %q: %v", opts.CommonName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("testcerts: marshal key: %v", err)
	}
	p := &Pair{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("EC PRIVATE KEY", keyDER)}
	base := filepath.Base(ca.CertFile[:len(ca.CertFile)-len("-ca.pem")]) + "-" + sanitize(opts.CommonName)
	p.CertFile = write(t, ca.dir, base+".pem", p.CertPEM)
	p.KeyFile = write(t, ca.dir, base+"-key.pem", p.KeyPEM)
	p.TLS, err = tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatalf("testcerts: key pair: %v", err)
	}
	return p
}

// ClientTLS is a client tls.Config trusting ca, presenting client when it
// is not nil.
func ClientTLS(ca *CA, client *Pair) *tls.Config {
	cfg := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	if client != nil {
		cfg.Certificates = []tls.Certificate{client.TLS}
	}
	return cfg
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testcerts: key: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testcerts: serial: %v", err)
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("testcerts: write %s: %v", path, err)
	}
	return path
}

// sanitize keeps a file name component to [a-zA-Z0-9._-].
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}
