package slo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/internal/atomicfile"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Connector-own point outcomes, next to the engine's sloengine.Outcome names.
const (
	outcomeFuture      = "too_far_future" // stamped beyond max_future_skew
	outcomeBadBoundary = "bad_threshold"  // latency threshold not a bucket boundary
	outcomeMalformed   = "malformed_body" // a log SLI read a field of a body that is not a JSON object
	// outcomeGameday: a span counted in a game-day instance (gameday.go),
	// never in a real SLO; outcomeGamedayDropped: a drill's span not
	// counted at all (game days disabled, or too many drills at once).
	outcomeGameday        = "gameday"
	outcomeGamedayDropped = "gameday_dropped"
)

// ownOutcomes counts the points refused by the connector itself, one
// counter per connector-own outcome.
type ownOutcomes struct {
	future, badBoundary, malformed atomic.Uint64
	gameday, gamedayDropped        atomic.Uint64
}

// restoreFailures counts the state files unreadable at start, by file.
type restoreFailures struct {
	slo, alerting atomic.Uint64
}

// runner runs the SLO engine of one connector component ID: one engine fed by
// its traces, metrics and logs instances, one evaluation loop, one
// alerting manager. It is a component.Component shared by those instances
// (internal/sharedcomponent).
type runner struct {
	id     component.ID
	cfg    *Config
	logger *zap.Logger
	now    func() time.Time
	engine *sloengine.Engine
	slos   []compiledSLO
	// spanSLOs are the span SLIs by service.name, so a span is matched
	// only against the SLIs of its own service.
	spanSLOs map[string][]compiledSLO
	// logSLOs are the log SLIs by service.name.
	logSLOs map[string][]compiledSLO
	// discovered are the discovered SLOs (discover.go), which count the
	// spans of every service without SLOs of its own; explicit holds the
	// services with SLOs of their own.
	discovered []compiledSLO
	explicit   map[string]bool
	// gameday holds the game-day instances (gameday.go).
	gameday *gameday
	alerts  *alerting.Manager
	tel     *telemetry
	// board is what the status page shows (board.go).
	board *board
	// next receives the emitted metrics: the latest created instance's
	// consumer (every instance of one ID feeds the same pipelines; the
	// latest wins if a partial reload rebuilds some of them).
	next    atomic.Pointer[consumer.Metrics]
	started time.Time
	// instance is the agent identity on the emitted metrics.
	instance string

	own ownOutcomes
	// overflow[slo] counts the points (data points, spans, log records)
	// routed to the SLO's overflow instance; overflowLogged: logged once.
	overflow       []atomic.Uint64
	overflowLogged []atomic.Bool
	// anyLogSLI: some SLO counts log records.
	anyLogSLI bool
	// restoreFailures counts state files that could not be read at start.
	restoreFailures restoreFailures
	// boundaryLogged: one log line per SLO for a bad latency threshold.
	boundaryLogged sync.Map
	// journal keeps the accepted requests' events between snapshots
	// (journal.go); nil without 'storage'. journalLogged: the last time a
	// journal write failure was logged (Unix ns).
	journal       atomic.Pointer[journal]
	journalLogged atomic.Int64

	mu     sync.Mutex
	cancel context.CancelFunc // nil until Start
	// alertsStopped: the manager was shut down (once, guarded by mu).
	alertsStopped bool
	wg            sync.WaitGroup
}

// compiledSLO is a spec with its engine index.
type compiledSLO struct {
	idx  int
	spec *spec.SLO
	// spanName and spanRoute match a span SLI's name and route; a pattern
	// without regular-expression syntax is compared as a plain string.
	spanName, spanRoute anchoredMatcher
}

// anchoredMatcher matches a fully anchored spec regexp, comparing
// literal patterns as strings (most routes are literals, and a span is
// matched against every SLI of its service).
type anchoredMatcher struct {
	re      *regexp.Regexp
	literal string
	isLit   bool
}

func newAnchoredMatcher(re *regexp.Regexp) anchoredMatcher {
	if re == nil {
		return anchoredMatcher{}
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$")
	if inner != re.String() && regexp.QuoteMeta(inner) == inner {
		return anchoredMatcher{re: re, literal: inner, isLit: true}
	}
	return anchoredMatcher{re: re}
}

// match reports whether s matches; a nil pattern matches everything.
func (m *anchoredMatcher) match(s string) bool {
	switch {
	case m.isLit:
		return s == m.literal
	case m.re == nil:
		return true
	}
	return m.re.MatchString(s)
}

func newRunner(id component.ID, cfg *Config, set component.TelemetrySettings, now func() time.Time) (*runner, error) {
	slos, explicit, err := cfg.LoadSLOs(id.String())
	if err != nil {
		return nil, err
	}
	s := &runner{id: id, cfg: cfg, logger: set.Logger, now: now, explicit: map[string]bool{}}
	for _, svc := range explicit {
		s.explicit[svc] = true
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	if s.instance, err = cfg.instanceID(); err != nil {
		return nil, err
	}
	if cfg.hasAlerting() && !cfg.decidesLocally() {
		s.logger.Info("alert_mode is ruler: the alerting section is not used, the ruler decides and sends the SLO alerts")
	}
	if cfg.hasAlerting() && cfg.decidesLocally() {
		s.alerts, err = alerting.NewManager(*cfg.Alerting, alerting.Settings{
			Dir:           s.path("alerting"),
			MeterProvider: set.MeterProvider,
			Logger:        s.logger,
			Now:           now,
		})
		if err != nil {
			return nil, err
		}
	}
	s.engine, err = sloengine.NewEngine(slos, sloengine.Options{Notifier: sloengine.NotifierFunc(s.notify), CountFrom: now()})
	if err != nil {
		return nil, fmt.Errorf("could not build the slo engine: %w", err)
	}
	for _, sp := range s.engine.SLOs() {
		i, _ := s.engine.SLOIndex(sp.Name)
		c := compiledSLO{idx: i, spec: sp}
		if sli := sp.SLI.Spans; sli != nil {
			c.spanName, c.spanRoute = newAnchoredMatcher(sli.Name), newAnchoredMatcher(sli.Route)
		}
		s.slos = append(s.slos, c)
		s.anyLogSLI = s.anyLogSLI || sp.SLI.Logs != nil
	}
	for _, c := range s.slos {
		if sli := c.spec.SLI.Spans; sli != nil && sli.AnyService {
			s.discovered = append(s.discovered, c)
		} else if sli != nil {
			if s.spanSLOs == nil {
				s.spanSLOs = map[string][]compiledSLO{}
			}
			s.spanSLOs[sli.Service] = append(s.spanSLOs[sli.Service], c)
		}
		if sli := c.spec.SLI.Logs; sli != nil {
			if s.logSLOs == nil {
				s.logSLOs = map[string][]compiledSLO{}
			}
			s.logSLOs[sli.Service] = append(s.logSLOs[sli.Service], c)
		}
	}
	s.overflow = make([]atomic.Uint64, len(s.slos))
	s.overflowLogged = make([]atomic.Bool, len(s.slos))
	s.board = newBoard(id, s.engine.SLOs(), s.alerts, cfg.AlertMode)
	s.gameday = newGameday(s.engine.SLOs(), sloengine.NotifierFunc(s.notify))
	if s.tel, err = newTelemetry(set.MeterProvider, s); err != nil {
		return nil, err
	}
	return s, nil
}

// path names a file of this component under the state directory ("" when
// persistence is off).
func (s *runner) path(suffix string) string {
	if s.cfg.State.Directory == "" {
		return ""
	}
	name := strings.NewReplacer("/", "_", "\\", "_").Replace(s.id.String())
	return filepath.Join(s.cfg.State.Directory, "slo-"+name+"."+suffix)
}

// notify is the engine's Notifier: the status page records the
// transitions and alerting.Manager delivers them, both as the engine
// emitted them.
func (s *runner) notify(_ context.Context, ts []contract.Transition) {
	if !s.cfg.decidesLocally() {
		return // the ruler decides: this agent's partial view never alerts
	}
	s.board.record(ts)
	if s.alerts == nil || len(ts) == 0 {
		return
	}
	s.alerts.Notify(ts...)
}

// Start restores the state (the snapshot, then the journal over it) and
// launches the evaluation loop; the shared reference calls it once, with
// the component ID's first instance.
func (s *runner) Start(ctx context.Context, host component.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = s.now()
	s.restore()
	restored := s.engine.Len() > 0
	if s.cfg.Storage != nil {
		j, err := openJournal(ctx, host, s.id, *s.cfg.Storage, s.logger)
		if err != nil {
			return fmt.Errorf("slo %s: %w", s.id, err)
		}
		points, err := j.replay(ctx, s.engine, s.now())
		if err != nil {
			_ = j.close(ctx)
			return fmt.Errorf("slo %s: %w", s.id, err)
		}
		if points > 0 {
			s.logger.Info("slo journal replayed over the snapshot", zap.Int("points", points))
			restored = true
		}
		s.journal.Store(j)
		// A checkpoint at once: the replayed records go, and what follows
		// is numbered after them.
		s.snapshot()
	}
	if s.alerts != nil {
		if err := s.alerts.Start(ctx); err != nil {
			return err
		}
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.loop(loopCtx, restored)
	return nil
}

// restore loads the snapshot and the alerting state; a corrupt file is
// logged (the engine moves it aside) and obsd starts fresh.
func (s *runner) restore() {
	p := s.path("snapshot.json")
	if p == "" {
		return
	}
	if err := os.MkdirAll(s.cfg.State.Directory, 0o750); err != nil {
		s.logger.Error("cannot create the slo state directory", zap.Error(err))
	}
	if err := s.engine.RestoreSnapshot(p, s.now()); err != nil {
		s.restoreFailures.slo.Add(1)
		s.logger.Error("slo snapshot unreadable, starting fresh", zap.String("path", p), zap.Error(err))
	}
	if s.alerts == nil {
		return
	}
	data, err := os.ReadFile(s.path("alerting.json"))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var st alerting.State
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		s.restoreFailures.alerting.Add(1)
		s.logger.Error("alerting state unreadable, starting fresh", zap.Error(err))
		return
	}
	s.alerts.ImportState(st)
}

// loop evaluates at every multiple of evaluation_interval since the Unix
// epoch (so that agents with the same interval evaluate, and stamp their
// window sums, at the same instants) and snapshots every snapshot_interval
// until ctx ends. After a restart that restored counts, it evaluates once
// at once (for obsd's own /metrics and the status page; the pipelines get
// the next aligned one), so that they show without waiting an interval.
func (s *runner) loop(ctx context.Context, restored bool) {
	defer s.wg.Done()
	if restored {
		s.runEvaluation(ctx, s.now(), false)
	}
	every := s.cfg.EvaluationInterval
	eval := time.NewTimer(alignedAfter(s.now(), every).Sub(s.now()))
	defer eval.Stop()
	snap := time.NewTicker(s.cfg.State.SnapshotInterval)
	defer snap.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-eval.C:
			// The instant just passed (the latest one, after a stall); never
			// one already evaluated (a timer firing a hair early on a
			// slewed wall clock), which would stamp a second sample.
			if at := alignedAt(s.now(), every); at.After(last) {
				last = at
				s.evaluate(ctx, at)
			}
			now := s.now()
			eval.Reset(alignedAfter(now, every).Sub(now))
		case <-snap.C:
			s.snapshot()
		}
	}
}

// alignedAt is the latest multiple of every since the Unix epoch not after t.
func alignedAt(t time.Time, every time.Duration) time.Time {
	n, i := t.UnixNano(), int64(every)
	return time.Unix(0, n-((n%i)+i)%i).UTC()
}

// alignedAfter is the first multiple of every since the Unix epoch after t.
func alignedAfter(t time.Time, every time.Duration) time.Time {
	return alignedAt(t, every).Add(every)
}

// evaluate runs one evaluation: metrics to the next consumer and to the
// self-telemetry, transitions to alerting.
func (s *runner) evaluate(ctx context.Context, now time.Time) { s.runEvaluation(ctx, now, true) }

// runEvaluation is evaluate; it sends the metrics to the next consumer only
// with emit.
func (s *runner) runEvaluation(ctx context.Context, now time.Time, emit bool) {
	// Dead series (pods gone, label churn) must not pile up. The horizon is
	// long on purpose: a forgotten series that comes back with the same
	// start time would count its whole cumulative value again.
	if n := s.engine.ForgetSeries(now.Add(-seriesIdleTimeout)); n > 0 {
		s.logger.Debug("forgot idle slo series", zap.Int("series", n))
	}
	em := newEmitter(now, emitOptions{instance: s.instance, local: s.cfg.decidesLocally(), sums: s.cfg.exportsSums()})
	var recs []record
	s.engine.Evaluate(ctx, now, func(st *sloengine.Status) {
		s.board.observe(st)
		r := newRecord(st, s.recordOptions(st.SLO))
		recs = append(recs, r)
		em.add(&r)
	})
	s.gameday.evaluate(ctx, now, s.board.observe)
	s.tel.setRecords(recs)
	next := s.next.Load()
	if !emit || next == nil || len(recs) == 0 {
		return
	}
	if err := (*next).ConsumeMetrics(ctx, em.md); err != nil {
		s.logger.Warn("slo metrics refused by the next consumer", zap.Error(err))
	}
}

// recordOptions says what the records of an SLO keep.
func (s *runner) recordOptions(name string) recordOptions {
	// Without a journal, a crash loses what was counted since the last
	// snapshot: export the counters as of that snapshot so they never go
	// back. With one, every acknowledged request is on disk: the live
	// counters are durable themselves.
	o := recordOptions{durable: s.cfg.State.Directory != "" && s.cfg.Storage == nil, sums: s.cfg.exportsSums()}
	if i, ok := s.engine.SLOIndex(name); ok {
		o.timeslices = s.slos[i].spec.Budgeting.Method != spec.Occurrences
	}
	return o
}

// seriesIdleTimeout is how long a series may send nothing before its
// cumulative-to-delta state is dropped.
const seriesIdleTimeout = 24 * time.Hour

// snapshot writes the engine snapshot and the alerting state, and
// truncates the journal records the snapshot holds.
func (s *runner) snapshot() {
	p := s.path("snapshot.json")
	if p == "" {
		return
	}
	mark, err := s.engine.Checkpoint(p, s.now())
	if err != nil {
		s.logger.Error("cannot write the slo snapshot", zap.Error(err))
	} else if j := s.journal.Load(); j != nil {
		if err := j.truncate(context.Background(), mark); err != nil {
			s.logger.Error("cannot truncate the slo journal; replay skips what the snapshot holds", zap.Error(err))
		}
	}
	if s.alerts == nil {
		return
	}
	data, err := json.Marshal(withoutGamedayAlerts(s.alerts.ExportState()))
	if err == nil {
		err = atomicfile.Write(s.path("alerting.json"), data, 0o600)
	}
	if err != nil {
		s.logger.Error("cannot write the alerting state", zap.Error(err))
	}
}

// Shutdown stops the loop, snapshots, stops alerting and unregisters the
// runner's telemetry and status board; the shared reference calls it once,
// when the component ID's last instance shuts down, started or not.
func (s *runner) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
		s.snapshot()
	}
	if j := s.journal.Swap(nil); j != nil {
		err = errors.Join(err, j.close(ctx))
	}
	err = errors.Join(err, s.stopAlerts(ctx))
	err = errors.Join(err, s.tel.unregister())
	s.board.deregister()
	return err
}

// stopAlerts shuts the alerting manager down once.
func (s *runner) stopAlerts(ctx context.Context) error {
	if s.alerts == nil || s.alertsStopped {
		return nil
	}
	s.alertsStopped = true
	return s.alerts.Shutdown(ctx)
}
