package testcerts

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIssuedCertificatesVerify(t *testing.T) {
	ca := NewCA(t, "main")
	srv := ca.Server(t, Options{})
	cli := ca.Client(t, Options{CommonName: "team-a", URIs: []string{"spiffe://c/ns/a"}})

	tests := []struct {
		name  string
		cert  *Pair
		usage x509.ExtKeyUsage
	}{
		{"a server certificate verifies against its CA for 127.0.0.1 use", srv, x509.ExtKeyUsageServerAuth},
		{"a client certificate verifies against its CA for client auth", cli, x509.ExtKeyUsageClientAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf, err := x509.ParseCertificate(tt.cert.TLS.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{tt.usage}}); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
	leaf, _ := x509.ParseCertificate(cli.TLS.Certificate[0])
	if leaf.Subject.CommonName != "team-a" || len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://c/ns/a" {
		t.Fatalf("client identities: CN %q URIs %v", leaf.Subject.CommonName, leaf.URIs)
	}
}

func TestMutualTLSHandshakeOnLoopback(t *testing.T) {
	ca := NewCA(t, "mtls")
	other := NewCA(t, "other")
	srv := ca.Server(t, Options{})
	cli := ca.Client(t, Options{CommonName: "team-b"})

	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srv.TLS}, ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, "ok")
			}()
		}
	}()
	dial := func(cfg *tls.Config) error {
		c, err := tls.Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.ReadAll(c)
		return err
	}
	if err := dial(ClientTLS(ca, cli)); err != nil {
		t.Fatalf("a client with a certificate from the CA must connect: %v", err)
	}
	if err := dial(ClientTLS(other, cli)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client trusting another CA must fail on the certificate, got %v", err)
	}
	if err := dial(ClientTLS(ca, nil)); err == nil {
		t.Fatal("a client without a certificate must be refused")
	}
}
