package statuspage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/extensions/statuspage/internal/pipeline"
	"github.com/obsd-dev/obsd/extensions/statuspage/internal/web"
	"github.com/obsd-dev/obsd/slo/status"
)

// maxScrapeBytes bounds one self-metrics response.
const maxScrapeBytes = 32 << 20

// statusPage is the extension: a registry of SLO sources, the pipelines of
// the effective config, the two latest self-metrics scrapes and the HTTP
// server.
type statusPage struct {
	cfg     *Config
	set     extension.Settings
	handler *web.Handler
	client  *http.Client
	tel     *telemetry

	mu         sync.Mutex
	sources    map[string]registration
	nextToken  uint64
	graphs     []pipeline.Graph
	metricsURL string
	prev, cur  *pipeline.Sample
	scrapeErr  string

	server *http.Server
	// addr is the address listened on (known once started).
	addr   string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type registration struct {
	src   status.SLOSource
	token uint64
}

var (
	_ extension.Extension                         = (*statusPage)(nil)
	_ status.Registry                             = (*statusPage)(nil)
	_ extensioncapabilities.ConfigSnapshotWatcher = (*statusPage)(nil)
	_ web.Provider                                = (*statusPage)(nil)
)

func newExtension(cfg *Config, set extension.Settings) (*statusPage, error) {
	e := &statusPage{cfg: cfg, set: set, sources: map[string]registration{}, metricsURL: cfg.MetricsURL,
		client: &http.Client{Timeout: min(cfg.Refresh, 5*time.Second)}}
	if e.metricsURL == "" {
		e.metricsURL = defaultMetricsURL
	}
	var err error
	if e.handler, err = web.New(e, web.Options{GrafanaURL: cfg.GrafanaURL, Refresh: cfg.Refresh}); err != nil {
		return nil, err
	}
	if e.tel, err = newTelemetry(set.TelemetrySettings); err != nil {
		return nil, err
	}
	return e, nil
}

// Start listens on the configured endpoint and starts scraping.
func (e *statusPage) Start(ctx context.Context, host component.Host) error {
	ln, err := e.cfg.Server.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("statuspage cannot listen on %q: %w", e.cfg.Server.NetAddr.Endpoint, err)
	}
	srv, err := e.cfg.Server.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, e.handler)
	if err != nil {
		_ = ln.Close()
		return err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	e.mu.Lock()
	e.server, e.cancel, e.addr = srv, cancel, ln.Addr().String()
	e.mu.Unlock()
	e.wg.Add(2)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.set.Logger.Error("statuspage server stopped", zap.Error(err))
		}
	}()
	go e.scrapeLoop(loopCtx)
	e.set.Logger.Info("status page listening", zap.String("endpoint", ln.Addr().String()))
	return nil
}

// Shutdown stops the server and the scrape loop.
func (e *statusPage) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	srv, cancel := e.server, e.cancel
	e.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	if cancel != nil {
		cancel()
	}
	e.wg.Wait()
	return err
}

// NotifyConfigSnapshot reads the pipelines and, unless 'metrics_url' is
// set, the self-metrics address from the effective config.
func (e *statusPage) NotifyConfigSnapshot(_ context.Context, snap extensioncapabilities.ConfigSnapshot) error {
	if snap == nil {
		return nil
	}
	conf := snap.Effective()
	if conf == nil {
		return nil
	}
	m := conf.ToStringMap()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.graphs = pipeline.FromConfig(m)
	if e.cfg.MetricsURL == "" {
		if u := pipeline.MetricsURL(m); u != "" {
			e.metricsURL = u
		}
	}
	return nil
}

// RegisterSLOSource implements status.Registry.
func (e *statusPage) RegisterSLOSource(id string, src status.SLOSource) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextToken++
	tok := e.nextToken
	e.sources[id] = registration{src: src, token: tok}
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if r, ok := e.sources[id]; ok && r.token == tok {
			delete(e.sources, id)
		}
	}
}

// Snapshots implements web.Provider: one snapshot per source, by id.
func (e *statusPage) Snapshots() []status.Snapshot {
	e.mu.Lock()
	ids := make([]string, 0, len(e.sources))
	srcs := make(map[string]status.SLOSource, len(e.sources))
	for id, r := range e.sources {
		ids = append(ids, id)
		srcs[id] = r.src
	}
	e.mu.Unlock()
	sort.Strings(ids)
	out := make([]status.Snapshot, 0, len(ids))
	for _, id := range ids {
		out = append(out, srcs[id].Snapshot())
	}
	return out
}

// Pipeline implements web.Provider.
func (e *statusPage) Pipeline() pipeline.View {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := pipeline.Build(e.graphs, e.prev, e.cur)
	v.MetricsURL, v.Error = e.metricsURL, e.scrapeErr
	return v
}

func (e *statusPage) scrapeLoop(ctx context.Context) {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.Refresh)
	defer t.Stop()
	e.scrape(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.scrape(ctx)
		}
	}
}

// scrape fetches the self-metrics once and keeps the last two samples.
func (e *statusPage) scrape(ctx context.Context) {
	e.mu.Lock()
	u := e.metricsURL
	e.mu.Unlock()
	s, err := e.fetch(ctx, u)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		e.scrapeErr = err.Error()
		e.tel.scrapeFailures.Add(ctx, 1)
		return
	}
	e.scrapeErr = ""
	e.prev, e.cur = e.cur, s
}

func (e *statusPage) fetch(ctx context.Context, u string) (*pipeline.Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("bad metrics URL %q: %w", u, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("could not scrape %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("could not scrape %s: status %s", u, resp.Status)
	}
	return pipeline.Parse(io.LimitReader(resp.Body, maxScrapeBytes), time.Now())
}
