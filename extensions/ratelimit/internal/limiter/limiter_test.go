package limiter

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a hand-driven clock for Config.Now.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// step is one request in a scenario: advance the clock by after, then ask
// for key, and expect the given outcome.
type step struct {
	after      time.Duration
	key        string
	allowed    bool
	refusedBy  Scope
	retryAfter time.Duration // checked for refusals
	tier       string
}

func ok(key, tier string) step { return step{key: key, allowed: true, tier: tier} }
func okAfter(d time.Duration, key, tier string) step {
	return step{after: d, key: key, allowed: true, tier: tier}
}
func no(key, tier string, by Scope, retry time.Duration) step {
	return step{key: key, refusedBy: by, retryAfter: retry, tier: tier}
}

func TestAllow(t *testing.T) {
	global := func(r float64, b int) *Limit { return &Limit{Rate: r, Burst: b} }
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{
			name: "a client gets its burst at once, then is refused until one token refills",
			cfg:  Config{Default: Limit{Rate: 2, Burst: 3}},
			steps: []step{
				ok("a", "default"), ok("a", "default"), ok("a", "default"),
				no("a", "default", ScopeClient, 500*time.Millisecond),
				{after: 200 * time.Millisecond, key: "a", refusedBy: ScopeClient, retryAfter: 300 * time.Millisecond, tier: "default"},
				okAfter(300*time.Millisecond, "a", "default"),
				no("a", "default", ScopeClient, 500*time.Millisecond),
			},
		},
		{
			name: "one client over its limit does not starve another under its own",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}},
			steps: []step{
				ok("noisy", "default"),
				no("noisy", "default", ScopeClient, time.Second),
				no("noisy", "default", ScopeClient, time.Second),
				ok("quiet", "default"),
				no("noisy", "default", ScopeClient, time.Second),
				okAfter(time.Second, "quiet", "default"),
			},
		},
		{
			name: "a tier key gets the tier's limit and name, others the default",
			cfg: Config{Default: Limit{Rate: 1, Burst: 1},
				Tiers: []Tier{{Name: "gold", Limit: Limit{Rate: 10, Burst: 3}, Keys: []string{"acme"}}}},
			steps: []step{
				ok("acme", "gold"), ok("acme", "gold"), ok("acme", "gold"),
				no("acme", "gold", ScopeClient, 100*time.Millisecond),
				ok("other-co", "default"),
				no("other-co", "default", ScopeClient, time.Second),
			},
		},
		{
			name: "the global bucket refuses a client that still has tokens, with the global refill delay",
			cfg:  Config{Default: Limit{Rate: 10, Burst: 10}, Global: global(4, 2)},
			steps: []step{
				ok("a", "default"), ok("b", "default"),
				no("c", "default", ScopeGlobal, 250*time.Millisecond),
				okAfter(250*time.Millisecond, "c", "default"),
			},
		},
		{
			name: "a request refused by its own bucket takes nothing from the global bucket",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}, Global: global(1, 2)},
			steps: []step{
				ok("noisy", "default"),
				no("noisy", "default", ScopeClient, time.Second),
				no("noisy", "default", ScopeClient, time.Second),
				no("noisy", "default", ScopeClient, time.Second),
				ok("quiet", "default"),
			},
		},
		{
			name: "a refusal by the global bucket takes no token from the client's bucket",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}, Global: global(1, 1)},
			steps: []step{
				ok("a", "default"),
				no("b", "default", ScopeGlobal, time.Second),
				okAfter(time.Second, "b", "default"),
			},
		},
		{
			name: "a client evicted from a full table comes back with a full bucket",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 2},
			steps: []step{
				ok("a", "default"), no("a", "default", ScopeClient, time.Second),
				ok("b", "default"), ok("c", "default"), // evicts a, the least recently used
				ok("a", "default"),
			},
		},
		{
			name: "the most recently used client survives eviction",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 2},
			steps: []step{
				ok("a", "default"), ok("b", "default"),
				no("a", "default", ScopeClient, time.Second), // a is now most recently used
				ok("c", "default"),                           // evicts b
				no("a", "default", ScopeClient, time.Second),
				ok("b", "default"),
			},
		},
		{
			name: "a clock step back neither refills nor panics",
			cfg:  Config{Default: Limit{Rate: 1, Burst: 1}},
			steps: []step{
				ok("a", "default"),
				{after: -time.Hour, key: "a", refusedBy: ScopeClient, retryAfter: time.Second, tier: "default"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			cfg := tt.cfg
			cfg.Now = c.Now
			if cfg.MaxKeys == 0 {
				cfg.MaxKeys = 100
			}
			cfg.MaxLabels = 10
			l, err := New(cfg)
			require.NoError(t, err)
			for i, s := range tt.steps {
				c.Advance(s.after)
				d := l.Allow(s.key)
				assert.Equal(t, s.allowed, d.Allowed, "step %d (%s): allowed", i, s.key)
				assert.Equal(t, s.refusedBy, d.RefusedBy, "step %d (%s): refused by", i, s.key)
				assert.Equal(t, s.tier, d.Tier, "step %d (%s): tier", i, s.key)
				if !s.allowed {
					assert.InDelta(t, s.retryAfter, d.RetryAfter, float64(time.Microsecond), "step %d (%s): retry after", i, s.key)
				} else {
					assert.Zero(t, d.RetryAfter, "step %d (%s): retry after on an allowed request", i, s.key)
				}
			}
		})
	}
}

func TestTableStaysBounded(t *testing.T) {
	l, err := New(Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 50, MaxLabels: 5})
	require.NoError(t, err)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("client-%d", i))
	}
	assert.Equal(t, 50, l.Len())
	assert.Equal(t, uint64(950), l.Evictions())
}

func TestLongKeysAreTruncated(t *testing.T) {
	l, err := New(Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 10, MaxLabels: 10})
	require.NoError(t, err)
	long := strings.Repeat("x", MaxKeyLen)
	require.True(t, l.Allow(long+"a").Allowed)
	d := l.Allow(long + "b")
	assert.False(t, d.Allowed, "keys equal in their first %d bytes share a bucket", MaxKeyLen)
	assert.Len(t, d.Label, MaxKeyLen)
}

func TestLabels(t *testing.T) {
	l, err := New(Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 100, MaxLabels: 3,
		Tiers: []Tier{{Name: "gold", Limit: Limit{Rate: 1, Burst: 1}, Keys: []string{"vip"}}}})
	require.NoError(t, err)
	assert.Equal(t, "a", l.Allow("a").Label)
	assert.Equal(t, "b", l.Allow("b").Label)
	assert.Equal(t, Other, l.Allow("c").Label, "the tier key holds one of the 3 label slots")
	assert.Equal(t, "vip", l.Allow("vip").Label, "a tier key seen late still has its own label")
	assert.Equal(t, "a", l.Allow("a").Label, "a label value is never reassigned")
}

func TestLabelsSurviveEviction(t *testing.T) {
	l, err := New(Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 1, MaxLabels: 1})
	require.NoError(t, err)
	assert.Equal(t, "a", l.Allow("a").Label)
	assert.Equal(t, Other, l.Allow("b").Label)
	assert.Equal(t, "a", l.Allow("a").Label, "a re-added client keeps its label")
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{
			name: "every problem is reported together",
			cfg:  Config{Default: Limit{Rate: 0, Burst: 0}, Global: &Limit{Rate: -1, Burst: 1}, MaxKeys: 0, MaxLabels: -1},
			want: []string{"default limit: rate must be", "default limit: burst must be at least 1",
				"global limit: rate must be", "max keys must be at least 1", "max labels must not be negative"},
		},
		{
			name: "tiers with reserved, duplicate or empty names, no keys, or shared keys are refused",
			cfg: Config{Default: Limit{Rate: 1, Burst: 1}, MaxKeys: 1, Tiers: []Tier{
				{Name: "default", Limit: Limit{Rate: 1, Burst: 1}, Keys: []string{"a"}},
				{Name: "gold", Limit: Limit{Rate: 1, Burst: 1}, Keys: []string{"b"}},
				{Name: "gold", Limit: Limit{Rate: 1, Burst: 1}, Keys: []string{"a"}},
				{Name: "", Limit: Limit{Rate: 1, Burst: 1}, Keys: nil},
				{Name: "silver", Limit: Limit{Rate: 1, Burst: 1}, Keys: []string{""}},
			}},
			want: []string{`tier name "default" is reserved`, `tier "gold" is defined twice`,
				`key "a" is in tiers "default" and "gold"`, "a tier has an empty name", `tier "" lists no keys`,
				`tier "silver": key "" must be 1 to 128 bytes`},
		},
		{
			name: "an infinite rate is refused",
			cfg:  Config{Default: Limit{Rate: math.Inf(1), Burst: 1}, MaxKeys: 1},
			want: []string{"default limit: rate must be a finite number"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestAllowOnAKnownKeyDoesNotAllocate(t *testing.T) {
	l, err := New(Config{Default: Limit{Rate: 1e9, Burst: 1000}, Global: &Limit{Rate: 1e9, Burst: 1000}, MaxKeys: 10, MaxLabels: 10})
	require.NoError(t, err)
	l.Allow("tenant")
	allocs := testing.AllocsPerRun(100, func() { l.Allow("tenant") })
	assert.Zero(t, allocs)
}

func TestConcurrentCallersNeverExceedTheBurst(t *testing.T) {
	c := newClock() // frozen: no refill while the goroutines run
	l, err := New(Config{Default: Limit{Rate: 1, Burst: 7}, Global: &Limit{Rate: 1, Burst: 20},
		MaxKeys: 100, MaxLabels: 10, Now: c.Now})
	require.NoError(t, err)
	const workers, calls = 8, 50
	keys := []string{"a", "b", "c", "d"}
	allowed := make(chan string, workers*calls)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range calls {
				k := keys[(w+i)%len(keys)]
				if l.Allow(k).Allowed {
					allowed <- k
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(allowed)
	perKey := map[string]int{}
	total := 0
	for k := range allowed {
		perKey[k]++
		total++
	}
	assert.Equal(t, 20, total, "the global burst bounds the total")
	for k, n := range perKey {
		assert.LessOrEqual(t, n, 7, "key %s", k)
	}
}
