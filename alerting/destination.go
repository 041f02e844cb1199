package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
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
	// retry waits between failed attempts at the head of the outbox.
	retry   retrypolicy.RetryPolicy[any]
	now     func() time.Time
	metrics *metrics
	logger  *zap.Logger
	// last is the outcome of the latest attempts, for status pages.
	last deliveryRecord
}

// deliveryRecord remembers when a destination last delivered and its
// latest error.
type deliveryRecord struct {
	mu        sync.Mutex
	delivered time.Time
	err       string
	errAt     time.Time
}

func (r *deliveryRecord) success(at time.Time) {
	r.mu.Lock()
	r.delivered = at
	r.mu.Unlock()
}

// failure records err; while every breaker is open the error that opened
// them is kept, as it says what is wrong.
func (r *deliveryRecord) failure(err error, at time.Time) {
	r.mu.Lock()
	if !errors.Is(err, errAllOpen) || r.err == "" {
		r.err = err.Error()
	}
	r.errAt = at
	r.mu.Unlock()
}

func (r *deliveryRecord) get() (delivered time.Time, err string, errAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered, r.err, r.errAt
}

var errAllOpen = errors.New("every endpoint's circuit breaker is open")

func newDestination(name string, cfg DestinationConfig, d DeliveryConfig, ob *outbox, now func() time.Time, logger *zap.Logger) (*destination, error) {
	dest := &destination{name: name, outbox: ob, delivery: d, now: now, logger: logger.With(zap.String("destination", name)),
		retry: retryBackoff(d.InitialBackoff, d.MaxBackoff).Build()}
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

// run delivers batches until ctx is done: the oldest queued batches are
// tried, and retried with the destination's backoff (failsafe-go), until
// they are delivered, rejected for good or handed to the fallback.
func (d *destination) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	deliver := failsafe.With(d.retry).WithContext(ctx)
	for {
		if _, ok := d.outbox.head(); !ok {
			select {
			case <-ctx.Done():
				return
			case <-d.outbox.ready:
				continue
			}
		}
		// The error is the last attempt's when ctx ended the retries; the
		// alerts stay queued for the next start.
		_ = deliver.RunWithExecution(d.attempt)
		if ctx.Err() != nil {
			return
		}
	}
}

// attempt posts the oldest queued batches once. It returns nil when they
// are done with (delivered, rejected for good, handed to the fallback) and
// the delivery error when they stay queued, for the retry policy to try
// again after its backoff.
func (d *destination) attempt(exec failsafe.Execution[any]) error {
	ctx := exec.Context()
	bs := d.outbox.peek(maxRequestAlerts)
	if len(bs) == 0 {
		return nil
	}
	alerts, superseded := coalesce(bs)
	done := func(outcome string) {
		d.outbox.removeBatches(bs)
		d.metrics.count(d.name, outcome, len(alerts))
		d.metrics.count(d.name, OutcomeSuperseded, superseded)
	}
	err := d.deliver(ctx, alerts)
	if err == nil {
		d.last.success(d.now())
	} else if ctx.Err() == nil {
		d.last.failure(err, d.now())
	}
	switch {
	case err == nil:
		done(OutcomeSuccess)
		return nil
	case ctx.Err() != nil:
		return err // shutting down: no retry, the alerts stay queued
	case isPermanent(err):
		d.logger.Error("alerts rejected, dropping them", zap.Int("alerts", len(alerts)), zap.Error(err))
		done(OutcomeRejected)
		return nil
	case d.fallbackDue():
		if dropped, ferr := d.fallback.outbox.push(alerts); ferr == nil {
			d.metrics.count(d.fallback.name, OutcomeDropped, dropped)
			d.logger.Warn("destination failing, alerts sent to fallback",
				zap.String("fallback", d.fallback.name), zap.Int("alerts", len(alerts)), zap.Error(err))
			done(OutcomeFallback)
			return nil
		}
	}
	d.metrics.count(d.name, OutcomeRetry, len(alerts))
	if n := exec.Attempts(); n == 1 || n%10 == 0 {
		d.logger.Warn("could not deliver alerts, will retry", zap.Int("attempt", n), zap.Error(err))
	}
	return err
}

// retryBackoff builds a destination's retry policy: retry every failed
// attempt, without limit (the outbox bounds what waits), after a delay
// that doubles from initial up to max, with "equal jitter": each delay is
// drawn between half and all of its step, never above max.
//
// failsafe-go's jitter factor f spreads a delay d over [d(1-f), d(1+f)];
// backing off from 3/4 of the bounds with f = 1/3 spreads each step over
// [1/2, 1] of the step computed from the bounds themselves.
func retryBackoff(initial, max time.Duration) retrypolicy.Builder[any] {
	threeQuarters := func(d time.Duration) time.Duration { return d - d/4 }
	return retrypolicy.NewBuilder[any]().
		WithMaxRetries(-1).
		WithBackoff(threeQuarters(initial), threeQuarters(max)).
		WithJitterFactor(1.0 / 3)
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
