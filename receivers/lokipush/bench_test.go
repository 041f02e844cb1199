package lokipush

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// benchPush builds a push of about size uncompressed bytes: 16 streams of
// ~120-byte lines, one entry in four with trace/span structured metadata.
func benchPush(size int) (raw []byte, lines int) {
	req := &push.PushRequest{}
	for i := range 16 {
		req.Streams = append(req.Streams, push.Stream{
			Labels: fmt.Sprintf(`{service_name="svc-%d", namespace="prod", pod="svc-%d-7f9c", container="app", level="info"}`, i, i),
		})
	}
	base := time.Unix(1_700_000_000, 0)
	for n := 0; ; n++ {
		s := &req.Streams[n%len(req.Streams)]
		e := push.Entry{
			Timestamp: base.Add(time.Duration(n) * time.Millisecond),
			Line:      fmt.Sprintf("level=info msg=\"request served\" method=GET path=/api/v1/items/%08d status=200 duration_ms=%d", n, n%997),
		}
		if n%4 == 0 {
			e.StructuredMetadata = push.LabelsAdapter{{Name: "trace_id", Value: "0af7651916cd43dd8448eb211c80319c"}, {Name: "span_id", Value: "b7ad6b7169203331"}}
		}
		s.Entries = append(s.Entries, e)
		if n%256 == 0 && req.Size() >= size {
			raw, _ = req.Marshal()
			return raw, n + 1
		}
	}
}

// BenchmarkDecodeProtobuf1MiB measures snappy + protobuf decode + label
// parsing + conversion to pdata of a 1 MiB (uncompressed) push.
func BenchmarkDecodeProtobuf1MiB(b *testing.B) {
	raw, lines := benchPush(1 << 20)
	body := snappy.Encode(nil, raw)
	var scratch []byte
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		plain, err := decodeSnappy(scratch, body, 10<<20)
		if err != nil {
			b.Fatal(err)
		}
		scratch = plain[:0]
		d, err := decodeProtobuf(plain)
		if err != nil || d.entries != lines {
			b.Fatalf("decoded %d of %d lines: %v", d.entries, lines, err)
		}
		_ = toLogs(d.streams, "", time.Now())
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkPushHandler1MiB measures the whole HTTP handler (no network) for
// a 1 MiB push into a no-op pipeline.
func BenchmarkPushHandler1MiB(b *testing.B) {
	raw, lines := benchPush(1 << 20)
	body := snappy.Encode(nil, raw)
	cfg := createDefaultConfig().(*Config)
	set := receivertest.NewNopSettings(Type)
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set})
	if err != nil {
		b.Fatal(err)
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		b.Fatal(err)
	}
	h := newPushHandler(cfg, consumertest.NewNop(), obsrecv, tel, set.Logger)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, PushPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentTypeProtobuf)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkDecodeJSON1MiB measures JSON (v1 "values" form) decode + label
// checks + conversion to pdata of the same push as BenchmarkDecodeProtobuf1MiB.
func BenchmarkDecodeJSON1MiB(b *testing.B) {
	raw, lines := benchPushJSON(1 << 20)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, err := decodeJSON(raw)
		if err != nil || d.entries != lines {
			b.Fatalf("decoded %d of %d lines: %v", d.entries, lines, err)
		}
		_ = toLogs(d.streams, "", time.Now())
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// benchPushJSON is benchPush in the JSON v1 form.
func benchPushJSON(size int) (raw []byte, lines int) {
	pb, lines := benchPush(size)
	var req push.PushRequest
	if err := req.Unmarshal(pb); err != nil {
		panic(err)
	}
	var b bytes.Buffer
	b.WriteString(`{"streams":[`)
	for i, s := range req.Streams {
		ls, err := parseStreamLabels(s.Labels)
		if err != nil {
			panic(err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"stream":{`)
		for j, l := range ls {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:%q", l.Name, l.Value)
		}
		b.WriteString(`},"values":[`)
		for j, e := range s.Entries {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["%d",%q`, e.Timestamp.UnixNano(), e.Line)
			if len(e.StructuredMetadata) > 0 {
				b.WriteString(",{")
				for k, l := range e.StructuredMetadata {
					if k > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%q:%q", l.Name, l.Value)
				}
				b.WriteByte('}')
			}
			b.WriteByte(']')
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return b.Bytes(), lines
}
