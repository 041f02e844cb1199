package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// endpoint is one URL of a destination, with its own breaker.
type endpoint struct {
	label   string // bounded: scheme://host/path of a configured URL
	url     string // where batches are posted
	breaker *breaker
	// failingSince is when the current run of failures began (zero: healthy);
	// only the destination's sender goroutine touches it.
	failingSince time.Time
}

// destination delivers the batches of its outbox to its endpoints.
type destination struct {
	name      string
	webhook   bool
	http      *HTTPClient
	client    *http.Client
	endpoints []*endpoint
	outbox    *outbox
	fallback  *destination
	after     time.Duration
	delivery  DeliveryConfig
	now       func() time.Time
	metrics   *metrics
	logger    *zap.Logger
}

var errAllOpen = errors.New("every endpoint's circuit breaker is open")

func newDestination(name string, cfg DestinationConfig, d DeliveryConfig, ob *outbox, now func() time.Time, logger *zap.Logger) (*destination, error) {
	dest := &destination{name: name, outbox: ob, delivery: d, now: now, logger: logger.With(zap.String("destination", name))}
	var urls []string
	if cfg.Alertmanager != nil {
		dest.http = &cfg.Alertmanager.HTTPClient
		for _, u := range cfg.Alertmanager.URLs {
			urls = append(urls, strings.TrimSuffix(u, "/")+"/api/v2/alerts")
		}
	} else {
		dest.webhook = true
		dest.http = &cfg.Webhook.HTTPClient
		urls = []string{cfg.Webhook.URL}
	}
	client, err := newHTTPClient(*dest.http)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", name, err)
	}
	dest.client = client
	for _, u := range urls {
		ep := &endpoint{label: endpointLabel(u), url: u}
		ep.breaker = newBreaker(d.Breaker, func(from, to breakerstate.State) {
			dest.logger.Info("circuit breaker changed state", zap.String("endpoint", ep.label),
				zap.Stringer("from", from), zap.Stringer("to", to))
		})
		dest.endpoints = append(dest.endpoints, ep)
	}
	return dest, nil
}

// endpointLabel strips credentials and query from a URL for metric labels.
func endpointLabel(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// run delivers batches until ctx is done.
func (d *destination) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	failures := 0
	for {
		bs := d.outbox.peek(maxRequestAlerts)
		if len(bs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-d.outbox.ready:
				continue
			}
		}
		alerts, superseded := coalesce(bs)
		done := func(outcome string) {
			d.outbox.removeBatches(bs)
			d.metrics.count(d.name, outcome, len(alerts))
			d.metrics.count(d.name, OutcomeSuperseded, superseded)
		}
		err := d.deliver(ctx, alerts)
		switch {
		case err == nil:
			done(OutcomeSuccess)
			failures = 0
			continue
		case ctx.Err() != nil:
			return
		case isPermanent(err):
			d.logger.Error("alerts rejected, dropping them", zap.Int("alerts", len(alerts)), zap.Error(err))
			done(OutcomeRejected)
			continue
		case d.fallbackDue():
			if dropped, ferr := d.fallback.outbox.push(alerts); ferr == nil {
				d.metrics.count(d.fallback.name, OutcomeDropped, dropped)
				d.logger.Warn("destination failing, alerts sent to fallback",
					zap.String("fallback", d.fallback.name), zap.Int("alerts", len(alerts)), zap.Error(err))
				done(OutcomeFallback)
				continue
			}
		}
		d.metrics.count(d.name, OutcomeRetry, len(alerts))
		failures++
		if failures == 1 || failures%10 == 0 {
			d.logger.Warn("could not deliver alerts, will retry", zap.Int("attempt", failures), zap.Error(err))
		}
		t := time.NewTimer(backoff(d.delivery.InitialBackoff, d.delivery.MaxBackoff, failures))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// maxRequestAlerts bounds how many queued alerts one request carries.
const maxRequestAlerts = 500

// coalesce joins queued batches into one request, keeping only the newest
// copy of each alert (by fingerprint) in the place of its first copy; it
// returns how many older copies were superseded.
func coalesce(bs []outboxBatch) (alerts []Alert, superseded int) {
	if len(bs) == 1 {
		return bs[0].alerts, 0
	}
	at := map[model.Fingerprint]int{}
	for _, b := range bs {
		for _, a := range b.alerts {
			fp := a.Fingerprint()
			if i, ok := at[fp]; ok {
				alerts[i] = a
				superseded++
				continue
			}
			at[fp] = len(alerts)
			alerts = append(alerts, a)
		}
	}
	return alerts, superseded
}

// backoff is the wait after the n-th consecutive failure: exponential from
// initial, capped at max, with "equal jitter" (between half and all of it).
func backoff(initial, max time.Duration, n int) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// fallbackDue reports whether every endpoint has been failing for at least
// the fallback threshold.
func (d *destination) fallbackDue() bool {
	if d.fallback == nil {
		return false
	}
	now := d.now()
	for _, ep := range d.endpoints {
		if ep.failingSince.IsZero() || now.Sub(ep.failingSince) < d.after {
			return false
		}
	}
	return true
}

// deliver posts alerts to every endpoint whose breaker allows it, in
// parallel. It succeeds when one endpoint accepted them, and is permanent
// when every endpoint tried refused them with a 4xx.
func (d *destination) deliver(ctx context.Context, alerts []Alert) error {
	body, err := d.encode(alerts)
	if err != nil {
		return &permanentError{err: err}
	}
	errs := make([]error, len(d.endpoints))
	var wg sync.WaitGroup
	for i, ep := range d.endpoints {
		if !ep.breaker.allow() {
			errs[i] = fmt.Errorf("%s: %w", ep.label, errAllOpen)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = post(ctx, d.client, d.http, ep.url, body, d.delivery.Timeout)
			// A 4xx means the endpoint is up: it does not count against it.
			ep.breaker.record(errs[i] == nil || isPermanent(errs[i]))
		}()
	}
	wg.Wait()
	ok, permanent, tried := false, true, false
	now := d.now()
	for i, ep := range d.endpoints {
		if errs[i] == nil {
			ok = true
			ep.failingSince = time.Time{}
			continue
		}
		if !errors.Is(errs[i], errAllOpen) {
			tried = true
			permanent = permanent && isPermanent(errs[i])
		}
		if ep.failingSince.IsZero() && !isPermanent(errs[i]) {
			ep.failingSince = now
		}
	}
	switch {
	case ok:
		return nil
	case tried && permanent:
		return &permanentError{err: errors.Join(errs...)}
	default:
		return errors.Join(errs...)
	}
}

func (d *destination) encode(alerts []Alert) ([]byte, error) {
	if d.webhook {
		return json.Marshal(toWebhook(d.name, alerts, d.now()))
	}
	return json.Marshal(toPostable(alerts))
}
