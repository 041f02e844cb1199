package lokipush

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is a running receiver on loopback with its sink and telemetry.
type harness struct {
	url    string
	sink   *consumertest.LogsSink
	tel    *componenttest.Telemetry
	client *http.Client
}

func startReceiver(t *testing.T, next consumer.Logs, mod func(*Config)) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	if mod != nil {
		mod(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{sink: new(consumertest.LogsSink), tel: componenttest.NewTelemetry()}
	if next == nil {
		next = h.sink
	}
	set := receivertest.NewNopSettings(Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	r, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	h.url = "http://" + r.(*lokiReceiver).addr + PushPath
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(func() {
		h.client.CloseIdleConnections()
		require.NoError(t, r.Shutdown(context.Background()))
		require.NoError(t, h.tel.Shutdown(context.Background()))
	})
	return h
}

func (h *harness) post(t *testing.T, contentType, encoding string, body []byte, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// counter returns the value of a counter for one reason, 0 if never recorded.
func (h *harness) counter(t *testing.T, name, reason string) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum := m.Data.(metricdata.Sum[int64])
	for _, dp := range sum.DataPoints {
		if v, ok := dp.Attributes.Value("reason"); ok && v.AsString() == reason {
			return dp.Value
		}
	}
	return 0
}

func protoBody(t testing.TB, req *push.PushRequest) []byte {
	t.Helper()
	raw, err := req.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, raw)
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

var (
	ts1 = time.Unix(1_700_000_000, 123_456_789).UTC()
	ts2 = time.Unix(1_700_000_001, 1).UTC()
)

func samplePush() *push.PushRequest {
	return &push.PushRequest{Streams: []push.Stream{
		{
			Labels: `{service_name="checkout", namespace="shop", pod="checkout-1", container="app", level="info", env="prod"}`,
			Entries: []push.Entry{
				{Timestamp: ts1, Line: "order placed", StructuredMetadata: push.LabelsAdapter{
					{Name: "trace_id", Value: "0af7651916cd43dd8448eb211c80319c"},
					{Name: "span_id", Value: "b7ad6b7169203331"},
				}},
				{Timestamp: ts2, Line: "order paid"},
			},
		},
		{
			Labels:  `{job="batch"}`,
			Entries: []push.Entry{{Timestamp: ts2, Line: "batch done"}},
		},
	}}
}

// record finds the single record whose body is line.
func record(t *testing.T, sink *consumertest.LogsSink, line string) (pcommon.Map, plog.LogRecord) {
	t.Helper()
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if lrs.At(k).Body().Str() == line {
						return rl.Resource().Attributes(), lrs.At(k)
					}
				}
			}
		}
	}
	t.Fatalf("no record with body %q", line)
	return pcommon.Map{}, plog.LogRecord{}
}

func assertSampleArrived(t *testing.T, sink *consumertest.LogsSink, tenant string) {
	t.Helper()
	require.Equal(t, 3, sink.LogRecordCount())
	res, lr := record(t, sink, "order placed")
	wantRes := map[string]any{
		"service.name": "checkout", "k8s.namespace.name": "shop",
		"k8s.pod.name": "checkout-1", "k8s.container.name": "app",
	}
	if tenant != "" {
		wantRes[tenantAttribute] = tenant
	}
	assert.Equal(t, wantRes, res.AsRaw())
	assert.Equal(t, map[string]any{
		"level": "info", "env": "prod",
		"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
	}, lr.Attributes().AsRaw())
	assert.Equal(t, ts1.UnixNano(), int64(lr.Timestamp()))
	assert.NotZero(t, lr.ObservedTimestamp())
	assert.Equal(t, "info", lr.SeverityText(), "the level label sets the severity")
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())

	_, lr = record(t, sink, "order paid")
	assert.Equal(t, ts2.UnixNano(), int64(lr.Timestamp()))
	res, _ = record(t, sink, "batch done")
	assert.Equal(t, "batch", res.AsRaw()["job"])
}

const sampleJSON = `{"streams":[
 {"stream":{"service_name":"checkout","namespace":"shop","pod":"checkout-1","container":"app","level":"info","env":"prod"},
  "values":[["1700000000123456789","order placed",{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"}],
            ["1700000001000000001","order paid"]]},
 {"stream":{"job":"batch"},"values":[["1700000001000000001","batch done"]]}]}`

func TestPushIsAccepted(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		encoding    string
		body        func(t *testing.T) []byte
		mod         func(*Config)
	}{
		{
			name:        "a snappy protobuf push as loki-client-go sends it arrives intact",
			contentType: contentTypeProtobuf,
			body:        func(t *testing.T) []byte { return protoBody(t, samplePush()) },
		},
		{
			name:        "a push without Content-Type is protobuf, as in Loki",
			contentType: "",
			body:        func(t *testing.T) []byte { return protoBody(t, samplePush()) },
		},
		{
			name:        "a plain JSON push arrives intact",
			contentType: "application/json; charset=utf-8",
			body:        func(*testing.T) []byte { return []byte(sampleJSON) },
		},
		{
			name:        "a gzip JSON push is decompressed by the HTTP server",
			contentType: contentTypeJSON,
			encoding:    "gzip",
			body:        func(t *testing.T) []byte { return gzipped(t, []byte(sampleJSON)) },
		},
		{
			name:        "a gzip JSON push is decompressed by the receiver when the server's decoders are off",
			contentType: contentTypeJSON,
			encoding:    "gzip",
			body:        func(t *testing.T) []byte { return gzipped(t, []byte(sampleJSON)) },
			mod:         func(c *Config) { c.ServerConfig.CompressionAlgorithms = []string{} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReceiver(t, nil, tt.mod)
			status, _, msg := h.post(t, tt.contentType, tt.encoding, tt.body(t), map[string]string{tenantHeader: "team-a"})
			require.Equal(t, http.StatusNoContent, status, msg)
			assertSampleArrived(t, h.sink, "team-a")
		})
	}
}

func TestPushWithoutTenantHasNoTenantAttribute(t *testing.T) {
	h := startReceiver(t, nil, nil)
	status, _, msg := h.post(t, contentTypeProtobuf, "", protoBody(t, samplePush()), nil)
	require.Equal(t, http.StatusNoContent, status, msg)
	assertSampleArrived(t, h.sink, "")
}

func TestMalformedStreamDoesNotLoseItsNeighbours(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        func(t *testing.T) []byte
		reason      string
		inMessage   string
	}{
		{
			name:        "a protobuf stream with unparsable labels is rejected, the others kept",
			contentType: contentTypeProtobuf,
			body: func(t *testing.T) []byte {
				req := samplePush()
				req.Streams = append(req.Streams, push.Stream{Labels: `{broken="`, Entries: []push.Entry{{Timestamp: ts1, Line: "lost"}}})
				return protoBody(t, req)
			},
			reason:    reasonInvalidLabels,
			inMessage: "stream 2 rejected (invalid_labels)",
		},
		{
			name:        "a JSON stream with a bad timestamp is rejected, the others kept",
			contentType: contentTypeJSON,
			body: func(*testing.T) []byte {
				return []byte(strings.Replace(sampleJSON, `"values":[["1700000001000000001","batch done"]]}]`,
					`"values":[["1700000001000000001","batch done"]]},{"stream":{"a":"b"},"values":[["yesterday","lost"]]}]`, 1))
			},
			reason:    reasonInvalidEntry,
			inMessage: `stream 2 rejected (invalid_entry): value 0: timestamp "yesterday"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReceiver(t, nil, nil)
			status, _, msg := h.post(t, tt.contentType, "", tt.body(t), nil)
			require.Equal(t, http.StatusBadRequest, status, msg)
			assert.Contains(t, msg, "1 of 3 streams rejected")
			assert.Contains(t, msg, tt.inMessage)
			assertSampleArrived(t, h.sink, "")
			assert.Equal(t, int64(1), h.counter(t, "obsd_lokipush_rejected_streams_total", tt.reason))
			assert.Equal(t, int64(1), h.counter(t, "obsd_lokipush_rejected_entries_total", tt.reason))
		})
	}
}

func TestPipelineRefusal(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"a retryable pipeline error is a 503 with Retry-After", errors.New("memory limit reached"), http.StatusServiceUnavailable, "2"},
		{"a pipeline error marked 429 is a 429 with Retry-After", consumererror.NewOTLPHTTPError(errors.New("slow down"), http.StatusTooManyRequests), http.StatusTooManyRequests, "2"},
		{"a permanent pipeline error is a 400 without Retry-After", consumererror.NewPermanent(errors.New("bad data")), http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReceiver(t, consumertest.NewErr(tt.err), func(c *Config) { c.RetryAfter = 2 * time.Second })
			status, hdr, msg := h.post(t, contentTypeProtobuf, "", protoBody(t, samplePush()), nil)
			require.Equal(t, tt.status, status, msg)
			assert.Equal(t, tt.retryAfter, hdr.Get("Retry-After"))
			assert.Equal(t, int64(1), h.counter(t, "obsd_lokipush_rejected_requests_total", requestPipelineRefused))
		})
	}
}

func TestSeverityFromLevel(t *testing.T) {
	for level, want := range map[string]plog.SeverityNumber{
		"trace": plog.SeverityNumberTrace, "DEBUG": plog.SeverityNumberDebug, "info": plog.SeverityNumberInfo,
		"Warning": plog.SeverityNumberWarn, "err": plog.SeverityNumberError, "critical": plog.SeverityNumberFatal,
		"verbose-ish": plog.SeverityNumberUnspecified,
	} {
		assert.Equal(t, want, severityFromLevel(level), level)
	}
}
