package filelog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/helper"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/parser/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/obsd-dev/obsd/internal/podlogs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	pod = podlogs.Container{Namespace: "shop", Pod: "cart-7d9f", UID: podlogs.UID(1), Name: "cart"}
	ts  = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
)

// run is one receiver reading a temporary /var/log/pods-shaped tree.
type run struct {
	root string
	tel  *componenttest.Telemetry
	sink *consumertest.LogsSink
}

// start builds the receiver through the factory, as obsd does, with the
// container parser limited to containerMax bytes and the reader to
// readerMax (truncating), reading root from the beginning.
func start(t *testing.T, next consumer.Logs, readerMax, containerMax int) *run {
	t.Helper()
	c := container.NewConfig()
	c.MaxLogSize = helper.ByteSize(containerMax)
	return startWith(t, next, readerMax, []operator.Config{{Builder: c}})
}

// shippedOperators are the operators of testdata/container.yaml, the
// shipped container setup.
func shippedOperators(t *testing.T) []operator.Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "container.yaml"))
	require.NoError(t, err)
	shipped := NewFactory().CreateDefaultConfig()
	require.NoError(t, cm.Unmarshal(&shipped))
	return shipped.(*Config).Operators
}

// startWith is start with the given operators.
func startWith(t *testing.T, next consumer.Logs, readerMax int, operators []operator.Config) *run {
	t.Helper()
	r := &run{root: t.TempDir(), tel: componenttest.NewTelemetry(), sink: new(consumertest.LogsSink)}
	if next == nil {
		next = r.sink
	}
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.InputConfig.Include = []string{filepath.Join(r.root, "*", "*", "*.log")}
	cfg.InputConfig.StartAt = "beginning"
	cfg.InputConfig.PollInterval = 20 * time.Millisecond
	cfg.InputConfig.IncludeFilePath = true
	cfg.InputConfig.IncludeFileName = false
	cfg.InputConfig.MaxLogSize = helper.ByteSize(readerMax)
	cfg.InputConfig.MaxLogSizeBehavior = "truncate"
	cfg.RetryOnFailure.Enabled = true
	cfg.RetryOnFailure.InitialInterval = 10 * time.Millisecond
	cfg.RetryOnFailure.MaxInterval = 20 * time.Millisecond
	cfg.RetryOnFailure.MaxElapsedTime = 0
	cfg.Operators = operators

	set := receivertest.NewNopSettings(f.Type())
	set.ID = component.NewID(f.Type())
	set.TelemetrySettings = r.tel.NewTelemetrySettings()
	rcv, err := f.CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		assert.NoError(t, rcv.Shutdown(context.Background()))
		assert.NoError(t, r.tel.Shutdown(context.Background()))
	})
	return r
}

func (r *run) write(t *testing.T, c podlogs.Container, data string) {
	t.Helper()
	w, err := podlogs.NewWriter(r.root, c)
	require.NoError(t, err)
	require.NoError(t, w.Write(data))
	require.NoError(t, w.Close())
}

// bodies waits until the sink holds n records and returns their bodies.
func (r *run) bodies(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return r.sink.LogRecordCount() >= n }, 10*time.Second, 10*time.Millisecond,
		"want %d records", n)
	var out []string
	for _, ld := range r.sink.AllLogs() {
		eachRecord(ld, func(_ plog.ResourceLogs, lr plog.LogRecord) { out = append(out, lr.Body().AsString()) })
	}
	return out
}

func eachRecord(ld plog.Logs, f func(plog.ResourceLogs, plog.LogRecord)) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				f(rl, lr)
			}
		}
	}
}

// counter is the value of an obsd_filelog_* counter with the given reason
// ("" for none), 0 when it was never incremented.
func (r *run) counter(t *testing.T, name, reason string) int64 {
	t.Helper()
	m, err := r.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, _ := dp.Attributes.Value(attribute.Key("receiver")); v.AsString() != "file_log" {
			t.Errorf("receiver label %q", v.AsString())
		}
		if v, _ := dp.Attributes.Value(attribute.Key("reason")); v.AsString() == reason {
			n += dp.Value
		}
	}
	return n
}

func TestOversizeLines(t *testing.T) {
	tests := []struct {
		name         string
		readerMax    int
		containerMax int
		lines        string
		wantLens     []int // body lengths of the records
		wantOversize int64
	}{
		{
			name:      "a physical line over the reader's limit is truncated to one record and counted once",
			readerMax: 4096, containerMax: 2048,
			lines:        podlogs.CRILine(ts, "stdout", "F", strings.Repeat("a", 10000)) + podlogs.CRILine(ts, "stdout", "F", "next"),
			wantLens:     []int{4096 - len(podlogs.CRILine(ts, "stdout", "F", "")) + 1, 4},
			wantOversize: 1,
		},
		{
			name:      "a joined line over the container parser's limit is split, and each cut counted",
			readerMax: 65536, containerMax: 2048,
			lines:        podlogs.Partial(ts, strings.Repeat("b", 6144), 1024) + podlogs.CRILine(ts, "stdout", "F", "next"),
			wantLens:     []int{3072, 3072, 4},
			wantOversize: 2,
		},
		{
			name:      "lines under both limits are not counted",
			readerMax: 65536, containerMax: 2048,
			lines:        podlogs.Partial(ts, strings.Repeat("c", 2000), 1024) + podlogs.DockerLine(ts, "stdout", strings.Repeat("d", 2000)),
			wantLens:     []int{2000, 2001},
			wantOversize: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, nil, tt.readerMax, tt.containerMax)
			r.write(t, pod, tt.lines)
			var lens []int
			for _, b := range r.bodies(t, len(tt.wantLens)) {
				lens = append(lens, len(b))
			}
			// CRI lines go through the recombine step, Docker lines do
			// not: the order between the two formats is not kept.
			assert.ElementsMatch(t, tt.wantLens, lens)
			assert.Equal(t, tt.wantOversize, r.counter(t, "obsd_filelog_oversize_records_total", ""))
		})
	}
}

func TestBadInputDoesNotStopTheFile(t *testing.T) {
	for _, tt := range []struct {
		name      string
		operators func(t *testing.T) []operator.Config
	}{
		{"one container parser", func(*testing.T) []operator.Config {
			c := container.NewConfig()
			c.MaxLogSize = 65536
			return []operator.Config{{Builder: c}}
		}},
		{"the shipped operators", shippedOperators},
	} {
		t.Run(tt.name, func(t *testing.T) { testBadInputDoesNotStopTheFile(t, tt.operators(t)) })
	}
}

func testBadInputDoesNotStopTheFile(t *testing.T, operators []operator.Config) {
	r := startWith(t, nil, 65536, operators)
	r.write(t, pod, podlogs.CRILine(ts, "stdout", "F", "first")+
		"\x00\x00\xff\xfe garbage without a CRI prefix \x01\x02\n"+
		podlogs.CRILine(ts, "stderr", "F", "bad utf-8 \xc3\x28 here")+
		"{\"log\": not json\n"+
		podlogs.CRILine(ts, "stdout", "F", "last"))
	// The container parser hands CRI lines to its recombine step and the
	// others on directly, so within one read the order is not kept.
	bodies := r.bodies(t, 5)
	require.Len(t, bodies, 5)
	for _, want := range []string{
		"first",
		"garbage without a CRI prefix", // sent on as it is
		"bad utf-8 \ufffd( here",       // invalid UTF-8 becomes U+FFFD
		`{"log": not json`,             // sent on as it is
		"last",                         // the file goes on after bad lines
	} {
		assert.True(t, slices.ContainsFunc(bodies, func(b string) bool { return strings.Contains(b, want) }),
			"no record holds %q: %q", want, bodies)
	}
	require.Eventually(t, func() bool { return r.counter(t, "obsd_filelog_errors_total", ReasonParseFailed) == 2 },
		5*time.Second, 10*time.Millisecond, "the two unparsable lines are counted")
	var withPod int
	for _, ld := range r.sink.AllLogs() {
		eachRecord(ld, func(rl plog.ResourceLogs, _ plog.LogRecord) {
			if v, ok := rl.Resource().Attributes().Get("k8s.pod.uid"); ok && v.Str() == pod.UID {
				withPod++
			}
		})
	}
	assert.Equal(t, 3, withPod, "parsed lines carry the pod from the path")
}

func TestUnopenablePathIsCountedAndOthersGoOn(t *testing.T) {
	r := start(t, nil, 65536, 65536)
	dangling := podlogs.Container{Namespace: "shop", Pod: "gone", UID: podlogs.UID(2), Name: "app"}
	require.NoError(t, os.MkdirAll(dangling.Dir(r.root), 0o755))
	// cri-dockerd's symlink to a removed container's json log.
	require.NoError(t, os.Symlink(filepath.Join(r.root, "missing-json.log"), dangling.Path(r.root)))
	r.write(t, pod, podlogs.CRILine(ts, "stdout", "F", "still read"))
	assert.Equal(t, []string{"still read"}, r.bodies(t, 1))
	require.Eventually(t, func() bool { return r.counter(t, "obsd_filelog_errors_total", ReasonOpenFailed) >= 1 },
		5*time.Second, 10*time.Millisecond)
}

// flaky refuses its first `fails` batches with err, then passes them on.
type flaky struct {
	consumertest.LogsSink
	fails atomic.Int32
	err   error
}

var _ consumer.Logs = (*flaky)(nil)

func (f *flaky) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if f.fails.Add(-1) >= 0 {
		return f.err
	}
	return f.LogsSink.ConsumeLogs(ctx, ld)
}

func TestRefusedBatches(t *testing.T) {
	t.Run("a batch refused, retried and then taken is counted once", func(t *testing.T) {
		next := &flaky{err: errors.New("memory limiter refused")}
		next.fails.Store(3)
		r := start(t, next, 4096, 2048)
		r.write(t, pod, podlogs.CRILine(ts, "stdout", "F", strings.Repeat("a", 5000)))
		require.Eventually(t, func() bool { return next.LogRecordCount() == 1 }, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, int64(1), r.counter(t, "obsd_filelog_oversize_records_total", ""))
		assert.Equal(t, int64(0), r.counter(t, "obsd_filelog_errors_total", ReasonDropped))
	})
	t.Run("a batch refused for good is counted as dropped", func(t *testing.T) {
		next := &flaky{err: consumererror.NewPermanent(errors.New("bad data"))}
		next.fails.Store(1)
		r := start(t, next, 65536, 65536)
		w, err := podlogs.NewWriter(r.root, pod)
		require.NoError(t, err)
		defer w.Close()
		require.NoError(t, w.Write(podlogs.CRILine(ts, "stdout", "F", "refused")))
		require.Eventually(t, func() bool { return r.counter(t, "obsd_filelog_errors_total", ReasonDropped) == 1 },
			10*time.Second, 10*time.Millisecond)
		require.NoError(t, w.Write(podlogs.CRILine(ts, "stdout", "F", "taken")))
		require.Eventually(t, func() bool { return next.LogRecordCount() == 1 }, 10*time.Second, 10*time.Millisecond)
	})
}

// TestDockerAndCRIFilesReadTogether reads Docker JSON and CRI files at the
// same time with the shipped operators (testdata/container.yaml, as in
// config.example.yaml). The upstream container parser keeps the time layout
// of the line it parsed last in a field shared by every file; one parser
// fed both formats from concurrent readers parses a CRI time with the
// Docker layout now and then ("extra text: Z") and counts a parse failure.
// The shipped operators route each format to a parser of its own.
func TestDockerAndCRIFilesReadTogether(t *testing.T) {
	r := startWith(t, nil, 1<<20, shippedOperators(t))

	const files, lines = 8, 400
	for f := range files {
		c := podlogs.Container{Namespace: "shop", Pod: fmt.Sprintf("p%d", f), UID: podlogs.UID(100 + f), Name: "app"}
		var b strings.Builder
		for n := range lines {
			if f%2 == 0 {
				b.WriteString(podlogs.DockerLine(ts, "stdout", fmt.Sprintf("docker %d %d", f, n)))
			} else {
				b.WriteString(podlogs.CRILine(ts, "stdout", "F", fmt.Sprintf("cri %d %d", f, n)))
			}
		}
		r.write(t, c, b.String())
	}
	r.bodies(t, files*lines)
	assert.Zero(t, r.counter(t, "obsd_filelog_errors_total", ReasonParseFailed), "no line of either format fails to parse")
	for _, ld := range r.sink.AllLogs() {
		eachRecord(ld, func(_ plog.ResourceLogs, lr plog.LogRecord) {
			if !lr.Timestamp().AsTime().Equal(ts.Truncate(time.Millisecond)) && !lr.Timestamp().AsTime().Equal(ts) {
				t.Errorf("%q: timestamp %v, want the line's %v", lr.Body().AsString(), lr.Timestamp().AsTime(), ts)
			}
		})
	}
}
