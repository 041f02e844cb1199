package k8smeta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/processors/k8smeta/internal/pods"
)

// source polls the node's pod list and publishes an immutable index that
// the processors read without locks. A failed poll keeps the last index:
// pods rarely change IPs, and stale metadata beats none.
type source struct {
	cfg    *Config
	logger *zap.Logger
	tel    *telemetry
	index  atomic.Pointer[pods.Index]
	// getenv is os.Getenv outside tests.
	getenv func(string) string

	// cancel and done stop the polling goroutine (nil when not polling).
	cancel context.CancelFunc
	done   chan struct{}
}

// source is shared by the instances of one component ID (see factory.go),
// which start it once and shut it down with the last instance.
var _ component.Component = (*source)(nil)

func newSource(cfg *Config, set component.TelemetrySettings) (*source, error) {
	s := &source{cfg: cfg, logger: set.Logger, getenv: os.Getenv}
	tel, err := newTelemetry(set, s.index.Load)
	if err != nil {
		return nil, err
	}
	s.tel = tel
	return s, nil
}

// Start begins polling. A source that cannot be set up is logged and
// counted, not fatal: the agent runs on with k8s.node.name only.
func (s *source) Start(context.Context, component.Host) error {
	if s.cfg.Source.Kind == SourceNone {
		return nil
	}
	target, client, err := s.setup()
	if err != nil {
		s.logger.Error("k8smeta: pod metadata disabled, only k8s.node.name is attached", zap.Error(err))
		s.tel.refreshed(context.Background(), err)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.loop(ctx, target, client)
	return nil
}

// Shutdown stops polling, if it started, and unregisters the gauges.
func (s *source) Shutdown(context.Context) error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
		s.cancel, s.done = nil, nil
	}
	s.tel.shutdown()
	return nil
}

func (s *source) loop(ctx context.Context, target string, client *http.Client) {
	defer close(s.done)
	defer client.CloseIdleConnections()
	t := time.NewTicker(s.cfg.Source.PollInterval)
	defer t.Stop()
	for {
		err := s.refresh(ctx, target, client)
		if ctx.Err() != nil {
			return
		}
		s.tel.refreshed(ctx, err)
		if err != nil {
			s.logger.Warn("k8smeta: could not list pods; keeping the previous list", zap.String("url", target), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// setup resolves the URL to poll and builds its HTTP client.
func (s *source) setup() (string, *http.Client, error) {
	sc := s.cfg.Source
	base := sc.Endpoint
	var target string
	switch sc.Kind {
	case SourceAPIServer:
		if base == "" {
			host, port := s.getenv("KUBERNETES_SERVICE_HOST"), s.getenv("KUBERNETES_SERVICE_PORT")
			if host == "" || port == "" {
				return "", nil, errors.New("'source.endpoint' is empty and KUBERNETES_SERVICE_HOST/PORT are not set: not running in a pod")
			}
			base = "https://" + net.JoinHostPort(host, port)
		}
		q := url.Values{"fieldSelector": {"spec.nodeName=" + s.cfg.NodeName}, "resourceVersion": {"0"}}
		target = strings.TrimSuffix(base, "/") + "/api/v1/pods?" + q.Encode()
	case SourceKubelet:
		target = strings.TrimSuffix(base, "/") + "/pods"
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: sc.InsecureSkipVerify} //nolint:gosec // opt-in, documented for self-signed kubelet certificates
	if sc.CAFile != "" && !sc.InsecureSkipVerify && strings.HasPrefix(target, "https:") {
		pem, err := os.ReadFile(sc.CAFile)
		if err != nil {
			return "", nil, fmt.Errorf("could not read 'source.ca_file': %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return "", nil, fmt.Errorf("'source.ca_file' %s holds no PEM certificate", sc.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.Proxy = nil // the API server and kubelet are never reached through a proxy
	return target, &http.Client{Transport: tr, Timeout: sc.Timeout}, nil
}

// refresh fetches and decodes one pod list and publishes it.
func (s *source) refresh(ctx context.Context, target string, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if s.cfg.Source.TokenFile != "" {
		token, err := os.ReadFile(s.cfg.Source.TokenFile)
		if err != nil {
			return fmt.Errorf("could not read 'source.token_file': %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("pod list answered %s", resp.Status)
	}
	max := s.cfg.Source.MaxResponseBytes
	body := &limitedReader{r: resp.Body, n: max}
	x, err := pods.Decode(body, s.cfg.Source.MaxPods)
	if body.exceeded {
		return fmt.Errorf("pod list is larger than 'source.max_response_bytes' (%d)", max)
	}
	if err != nil {
		return err
	}
	s.index.Store(x)
	return nil
}

// limitedReader is io.LimitReader that remembers hitting the limit, so a
// cut body is reported as too large rather than as bad JSON.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.exceeded = true
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
