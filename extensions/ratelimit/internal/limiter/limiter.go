// Package limiter is the pure core of the ratelimit extension: token buckets
// keyed by client in an LRU-bounded table, named tiers of limits, a global
// bucket shared by every client, Retry-After delays derived from the refill
// rate, and a bounded set of metric label values. It has no collector
// imports; the extension is thin glue around it.
package limiter

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultTier is the tier name of clients not listed in any tier.
const DefaultTier = "default"

// MaxKeyLen bounds the bytes of a client key that are kept: longer keys are
// truncated, so a hostile header value cannot inflate the key table.
const MaxKeyLen = 128

// Limit is a token bucket: Rate tokens (requests) per second refill a bucket
// of Burst tokens; each request takes one.
type Limit struct {
	// Rate is the sustained number of requests per second; must be > 0.
	Rate float64
	// Burst is the bucket size, the number of requests allowed at once
	// after a quiet period; must be >= 1.
	Burst int
}

func (l Limit) validate(what string) error {
	var errs []error
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) {
		errs = append(errs, fmt.Errorf("%s: rate must be a finite number greater than zero, got %v", what, l.Rate))
	}
	if l.Burst < 1 {
		errs = append(errs, fmt.Errorf("%s: burst must be at least 1, got %d", what, l.Burst))
	}
	return errors.Join(errs...)
}

// Tier is a named limit applied to each of the listed client keys (each key
// gets its own bucket of this size; the tier is not a shared bucket).
type Tier struct {
	Name  string
	Limit Limit
	Keys  []string
}

// Config is what New needs.
type Config struct {
	// Default is the limit of clients not listed in any tier.
	Default Limit
	// Global, when non-nil, is one bucket shared by all clients: a request
	// passes only if both its client's bucket and the global one have a token.
	Global *Limit
	// Tiers are named limits for listed keys; a key may be in one tier only.
	Tiers []Tier
	// MaxKeys bounds the client table; the least recently used client is
	// evicted (and starts again with a full bucket when it returns).
	MaxKeys int
	// MaxLabels bounds the distinct client label values (see labelSet).
	MaxLabels int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Scope says which bucket refused a request.
type Scope uint8

const (
	// ScopeNone: the request was allowed.
	ScopeNone Scope = iota
	// ScopeClient: the client's own bucket was empty.
	ScopeClient
	// ScopeGlobal: the client had a token but the global bucket was empty.
	ScopeGlobal
)

// String is the scope's name, as used in logs and metric labels.
func (s Scope) String() string {
	switch s {
	case ScopeClient:
		return "client"
	case ScopeGlobal:
		return "global"
	default:
		return "none"
	}
}

// Decision is the outcome of one Allow call.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// RefusedBy is the bucket that refused it (ScopeNone when allowed).
	RefusedBy Scope
	// RetryAfter is, for a refusal, the time until the refusing bucket holds
	// one token again at its refill rate; always > 0 for a refusal.
	RetryAfter time.Duration
	// Tier is the client's tier name (DefaultTier when unlisted).
	Tier string
	// Label is the client's bounded metric label value (a key or Other).
	Label string
}

type tierState struct {
	name  string
	limit Limit
}

type entry struct {
	key        string
	label      string
	tier       *tierState
	bucket     *rate.Limiter
	prev, next *entry
}

// Limiter decides, per client key, whether a request may proceed. It is safe
// for concurrent use; Allow on a known key does not allocate.
type Limiter struct {
	now       func() time.Time
	def       *tierState
	tierOf    map[string]*tierState
	global    *rate.Limiter
	globalLim Limit
	maxKeys   int

	mu        sync.Mutex
	table     map[string]*entry
	head      *entry // most recently used
	tail      *entry // least recently used
	evictions uint64
	labels    *labelSet
}

// New validates cfg and builds a Limiter.
func New(cfg Config) (*Limiter, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	l := &Limiter{
		now:     cfg.Now,
		def:     &tierState{name: DefaultTier, limit: cfg.Default},
		tierOf:  map[string]*tierState{},
		maxKeys: cfg.MaxKeys,
		table:   make(map[string]*entry, min(cfg.MaxKeys, 1024)),
	}
	if l.now == nil {
		l.now = time.Now
	}
	var reserved []string
	for _, t := range cfg.Tiers {
		ts := &tierState{name: t.Name, limit: t.Limit}
		for _, k := range t.Keys {
			l.tierOf[k] = ts
			reserved = append(reserved, k)
		}
	}
	if cfg.Global != nil {
		l.globalLim = *cfg.Global
		l.global = rate.NewLimiter(rate.Limit(cfg.Global.Rate), cfg.Global.Burst)
	}
	l.labels = newLabelSet(cfg.MaxLabels, reserved)
	return l, nil
}

func validate(cfg Config) error {
	errs := []error{cfg.Default.validate("default limit")}
	if cfg.Global != nil {
		errs = append(errs, cfg.Global.validate("global limit"))
	}
	if cfg.MaxKeys < 1 {
		errs = append(errs, fmt.Errorf("max keys must be at least 1, got %d", cfg.MaxKeys))
	}
	if cfg.MaxLabels < 0 {
		errs = append(errs, fmt.Errorf("max labels must not be negative, got %d", cfg.MaxLabels))
	}
	names := map[string]bool{}
	owner := map[string]string{}
	for _, t := range cfg.Tiers {
		switch {
		case t.Name == "":
			errs = append(errs, errors.New("a tier has an empty name"))
		case t.Name == DefaultTier || t.Name == Other:
			errs = append(errs, fmt.Errorf("tier name %q is reserved", t.Name))
		case names[t.Name]:
			errs = append(errs, fmt.Errorf("tier %q is defined twice", t.Name))
		}
		names[t.Name] = true
		errs = append(errs, t.Limit.validate(fmt.Sprintf("tier %q", t.Name)))
		if len(t.Keys) == 0 {
			errs = append(errs, fmt.Errorf("tier %q lists no keys", t.Name))
		}
		for _, k := range t.Keys {
			switch prev, dup := owner[k]; {
			case k == "" || len(k) > MaxKeyLen:
				errs = append(errs, fmt.Errorf("tier %q: key %q must be 1 to %d bytes", t.Name, k, MaxKeyLen))
			case dup:
				errs = append(errs, fmt.Errorf("key %q is in tiers %q and %q; a key may be in one tier only", k, prev, t.Name))
			}
			owner[k] = t.Name
		}
	}
	return errors.Join(errs...)
}

// Allow takes a token for key if both its bucket and the global one have one.
// A request refused by its own bucket takes nothing from the global bucket,
// so a client over its limit cannot starve others through the global limit.
func (l *Limiter) Allow(key string) Decision {
	if len(key) > MaxKeyLen {
		key = key[:MaxKeyLen]
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.lookup(key)
	d := Decision{Tier: e.tier.name, Label: e.label}
	if tok := e.bucket.TokensAt(now); tok < 1 {
		d.RefusedBy, d.RetryAfter = ScopeClient, waitFor(tok, e.tier.limit.Rate)
		return d
	}
	if l.global != nil {
		if tok := l.global.TokensAt(now); tok < 1 {
			d.RefusedBy, d.RetryAfter = ScopeGlobal, waitFor(tok, l.globalLim.Rate)
			return d
		}
		l.global.AllowN(now, 1)
	}
	e.bucket.AllowN(now, 1)
	d.Allowed = true
	return d
}

// waitFor is the time a bucket holding tok tokens needs to reach one token
// at rate tokens per second, rounded up to the nanosecond and at least 1ns.
func waitFor(tok, perSecond float64) time.Duration {
	d := time.Duration(math.Ceil((1 - tok) / perSecond * float64(time.Second)))
	return max(d, time.Nanosecond)
}

// lookup returns key's entry, creating it (and evicting the least recently
// used one when the table is full), and marks it most recently used.
// l.mu must be held.
func (l *Limiter) lookup(key string) *entry {
	if e, ok := l.table[key]; ok {
		l.moveToFront(e)
		return e
	}
	key = strings.Clone(key)
	tier := l.def
	if ts, ok := l.tierOf[key]; ok {
		tier = ts
	}
	var e *entry
	if len(l.table) >= l.maxKeys {
		e = l.tail
		l.unlink(e)
		delete(l.table, e.key)
		l.evictions++
	} else {
		e = &entry{}
	}
	*e = entry{key: key, label: l.labels.label(key), tier: tier,
		bucket: rate.NewLimiter(rate.Limit(tier.limit.Rate), tier.limit.Burst)}
	l.table[key] = e
	l.pushFront(e)
	return e
}

func (l *Limiter) moveToFront(e *entry) {
	if l.head == e {
		return
	}
	l.unlink(e)
	l.pushFront(e)
}

func (l *Limiter) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (l *Limiter) pushFront(e *entry) {
	e.next = l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

// Len is the number of clients in the table (at most MaxKeys).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.table)
}

// Evictions is the number of clients evicted from the full table so far.
func (l *Limiter) Evictions() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evictions
}
