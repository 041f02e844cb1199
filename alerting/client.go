package alerting

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// newHTTPClient builds the http.Client of a destination from its TLS options.
func newHTTPClient(h HTTPClient) (*http.Client, error) {
	tcfg := &tls.Config{
		ServerName:         h.TLS.ServerName,
		InsecureSkipVerify: h.TLS.InsecureSkipVerify, //nolint:gosec // explicit opt-in
		MinVersion:         tls.VersionTLS12,
	}
	if h.TLS.MinVersion == "1.3" {
		tcfg.MinVersion = tls.VersionTLS13
	}
	if h.TLS.CAFile != "" {
		pem, err := os.ReadFile(h.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("could not read 'tls::ca_file': %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("'tls::ca_file' %q holds no PEM certificate", h.TLS.CAFile)
		}
		tcfg.RootCAs = pool
	}
	if h.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(h.TLS.CertFile, h.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("could not load 'tls::cert_file'/'tls::key_file': %w", err)
		}
		tcfg.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tcfg
	tr.MaxIdleConnsPerHost = 4
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr}, nil
}

// authorize sets the Authorization header; files are read on every call so
// that rotated credentials are picked up.
func authorize(req *http.Request, h *HTTPClient) error {
	if b := h.BasicAuth; b != nil {
		pw := b.Password
		if b.PasswordFile != "" {
			data, err := os.ReadFile(b.PasswordFile)
			if err != nil {
				return fmt.Errorf("could not read 'basic_auth::password_file': %w", err)
			}
			pw = strings.TrimSpace(string(data))
		}
		req.SetBasicAuth(b.Username, pw)
	}
	token := h.BearerToken
	if h.BearerTokenFile != "" {
		data, err := os.ReadFile(h.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("could not read 'bearer_token_file': %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return nil
}

// permanentError marks a response that retrying will not fix (a 4xx other
// than 408 and 429): the endpoint is up but refuses the batch.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// post sends body to url with a timeout and classifies the response.
func post(ctx context.Context, client *http.Client, h *HTTPClient, url string, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &permanentError{err: fmt.Errorf("could not build request to %s: %w", url, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "obsd-alerting")
	if err := authorize(req, h); err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("could not post to %s: %w", url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s answered %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return &permanentError{err: err}
	}
	return err
}
