package lokipush

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Reasons a single stream is rejected while the rest of its request is kept.
// They are the values of the `reason` label of
// obsd_lokipush_rejected_streams_total, so the set must stay small and fixed.
const (
	reasonInvalidLabels = "invalid_labels"
	reasonInvalidEntry  = "invalid_entry"
)

// errTooLarge is returned when a body (raw or decompressed) passes the limit.
var errTooLarge = errors.New("request body exceeds the size limit")

// stream is one accepted Loki stream: its labels, sorted by name, and its
// entries with structured metadata.
type stream struct {
	labels  []push.LabelAdapter
	entries []push.Entry
}

// rejection describes one stream dropped from a request; the others are kept.
type rejection struct {
	index   int    // position of the stream in the request
	reason  string // one of the reason* constants
	entries int    // number of entries lost with it
	err     error
}

func (r rejection) String() string {
	return fmt.Sprintf("stream %d rejected (%s): %v", r.index, r.reason, r.err)
}

// decoded is the outcome of decoding one push request.
type decoded struct {
	streams  []stream
	rejected []rejection
	entries  int // entries in accepted streams
}

// promParser parses stream label strings in Prometheus text form.
var promParser = parser.NewParser(parser.Options{})

// parseStreamLabels parses a stream label string such as `{a="b", c="d"}`.
// A metric name, an empty set or an invalid name or value is an error.
func parseStreamLabels(s string) ([]push.LabelAdapter, error) {
	ls, err := promParser.ParseMetric(s)
	if err != nil {
		return nil, fmt.Errorf("cannot parse stream labels %q: %w", truncate(s, 120), err)
	}
	if ls.IsEmpty() {
		return nil, errors.New("stream has no labels, at least one label pair is required")
	}
	if ls.Has(labels.MetricName) {
		return nil, fmt.Errorf("stream labels %q must be a bare label set, without a metric name", truncate(s, 120))
	}
	if name, dup := ls.HasDuplicateLabelNames(); dup {
		return nil, fmt.Errorf("stream labels repeat the label %q", truncate(name, 120))
	}
	out := make([]push.LabelAdapter, 0, ls.Len())
	var bad string
	ls.Range(func(l labels.Label) {
		if bad == "" && !validLabelName(l.Name) {
			bad = l.Name
		}
		out = append(out, push.LabelAdapter{Name: l.Name, Value: l.Value})
	})
	if bad != "" {
		return nil, fmt.Errorf("invalid label name %q", truncate(bad, 120))
	}
	return out, nil
}

// decodeSnappy decompresses a snappy block, refusing before any allocation a
// body that announces a decoded length over limit. dst is reused if large
// enough.
func decodeSnappy(dst, body []byte, limit int64) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("body is not snappy-compressed protobuf: %w", err)
	}
	if int64(n) > limit {
		return nil, fmt.Errorf("%w: snappy body decompresses to %d bytes, limit is %d", errTooLarge, n, limit)
	}
	out, err := snappy.Decode(dst[:cap(dst)], body)
	if err != nil {
		return nil, fmt.Errorf("body is not valid snappy: %w", err)
	}
	return out, nil
}

// decodeProtobuf decodes an uncompressed protobuf PushRequest. A body that is
// not a PushRequest is an error; a stream with bad labels is a rejection.
func decodeProtobuf(raw []byte) (decoded, error) {
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return decoded{}, fmt.Errorf("body is not a protobuf PushRequest: %w", err)
	}
	out := decoded{streams: make([]stream, 0, len(req.Streams))}
	for i := range req.Streams {
		s := &req.Streams[i]
		if len(s.Entries) == 0 {
			continue
		}
		ls, err := parseStreamLabels(s.Labels)
		if err != nil {
			out.rejected = append(out.rejected, rejection{index: i, reason: reasonInvalidLabels, entries: len(s.Entries), err: err})
			continue
		}
		out.streams = append(out.streams, stream{labels: ls, entries: s.Entries})
		out.entries += len(s.Entries)
	}
	return out, nil
}

// jsonPushRequest is the JSON push body: {"streams":[...]}. Streams are kept
// raw so that one malformed stream does not fail its neighbours.
type jsonPushRequest struct {
	Streams []json.RawMessage `json:"streams"`
}

// jsonStream is one stream in either JSON shape Loki has used:
// v1 {"stream":{"k":"v"},"values":[["<ns>","<line>",{...}]]}, or legacy
// {"labels":"{k=\"v\"}","entries":[{"ts":"<RFC3339>","line":"..."}]},
// which is what loki-client-go's JSON mode sends (it marshals push.Stream).
type jsonStream struct {
	Stream  map[string]string `json:"stream"`
	Values  []json.RawMessage `json:"values"`
	Labels  *string           `json:"labels"`
	Entries []legacyEntry     `json:"entries"`
}

// legacyEntry is push.Entry's JSON form.
type legacyEntry struct {
	Timestamp          time.Time         `json:"ts"`
	Line               string            `json:"line"`
	StructuredMetadata map[string]string `json:"structuredMetadata"`
}

// decodeJSON decodes a JSON push body. Invalid JSON is an error; a stream
// with invalid labels or values is a rejection.
func decodeJSON(raw []byte) (decoded, error) {
	var req jsonPushRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return decoded{}, fmt.Errorf("body is not a JSON push request: %w", err)
	}
	out := decoded{streams: make([]stream, 0, len(req.Streams))}
	for i, rs := range req.Streams {
		s, reason, err := decodeJSONStream(rs)
		if err != nil {
			out.rejected = append(out.rejected, rejection{index: i, reason: reason, entries: len(s.entries), err: err})
			continue
		}
		if len(s.entries) == 0 {
			continue
		}
		out.streams = append(out.streams, s)
		out.entries += len(s.entries)
	}
	return out, nil
}

// decodeJSONStream decodes one stream. On error the returned stream still
// carries the entries decoded so far, for accounting.
func decodeJSONStream(raw json.RawMessage) (stream, string, error) {
	var js jsonStream
	if err := json.Unmarshal(raw, &js); err != nil {
		return stream{}, reasonInvalidEntry, fmt.Errorf("malformed stream: %w", err)
	}
	if js.Stream == nil && js.Labels != nil {
		return decodeLegacyStream(&js)
	}
	s := stream{entries: make([]push.Entry, len(js.Values))}
	if len(js.Values) == 0 {
		return stream{}, "", nil
	}
	if len(js.Stream) == 0 {
		return s, reasonInvalidLabels, errors.New("stream has no labels, at least one label pair is required")
	}
	s.labels = make([]push.LabelAdapter, 0, len(js.Stream))
	for name, value := range js.Stream {
		if !validLabelName(name) {
			return s, reasonInvalidLabels, fmt.Errorf("invalid label name %q", truncate(name, 120))
		}
		s.labels = append(s.labels, push.LabelAdapter{Name: name, Value: value})
	}
	sortLabels(s.labels)
	for j, v := range js.Values {
		if err := decodeJSONValue(v, &s.entries[j]); err != nil {
			return s, reasonInvalidEntry, fmt.Errorf("value %d: %w", j, err)
		}
	}
	return s, "", nil
}

// decodeLegacyStream converts a legacy {"labels","entries"} stream.
func decodeLegacyStream(js *jsonStream) (stream, string, error) {
	if len(js.Entries) == 0 {
		return stream{}, "", nil
	}
	s := stream{entries: make([]push.Entry, len(js.Entries))}
	ls, err := parseStreamLabels(*js.Labels)
	if err != nil {
		return s, reasonInvalidLabels, err
	}
	s.labels = ls
	for i := range js.Entries {
		e := &js.Entries[i]
		s.entries[i] = push.Entry{Timestamp: e.Timestamp, Line: e.Line}
		if len(e.StructuredMetadata) > 0 {
			md := make(push.LabelsAdapter, 0, len(e.StructuredMetadata))
			for k, v := range e.StructuredMetadata {
				md = append(md, push.LabelAdapter{Name: k, Value: v})
			}
			sortLabels(md)
			s.entries[i].StructuredMetadata = md
		}
	}
	return s, "", nil
}

// decodeJSONValue decodes ["<unix ns>", "<line>"] or
// ["<unix ns>", "<line>", {"<key>": "<value>", ...}].
func decodeJSONValue(raw json.RawMessage, e *push.Entry) error {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return fmt.Errorf("must be an array [timestamp, line, metadata?]: %w", err)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return fmt.Errorf("must have 2 or 3 elements, has %d", len(parts))
	}
	var ts string
	if err := json.Unmarshal(parts[0], &ts); err != nil {
		return fmt.Errorf("timestamp must be a string of unix nanoseconds: %w", err)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ns < 0 {
		return fmt.Errorf("timestamp %q is not a non-negative integer of unix nanoseconds", truncate(ts, 40))
	}
	e.Timestamp = time.Unix(0, ns).UTC()
	if err := json.Unmarshal(parts[1], &e.Line); err != nil {
		return fmt.Errorf("line must be a string: %w", err)
	}
	if len(parts) == 3 {
		var md map[string]string
		if err := json.Unmarshal(parts[2], &md); err != nil {
			return fmt.Errorf("structured metadata must be an object of strings: %w", err)
		}
		e.StructuredMetadata = make(push.LabelsAdapter, 0, len(md))
		for k, v := range md {
			e.StructuredMetadata = append(e.StructuredMetadata, push.LabelAdapter{Name: k, Value: v})
		}
		sortLabels(e.StructuredMetadata)
	}
	return nil
}

// validLabelName reports whether name matches [a-zA-Z_][a-zA-Z0-9_]*.
func validLabelName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// sortLabels sorts by name (insertion sort: label sets are small).
func sortLabels(ls []push.LabelAdapter) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// truncate shortens s for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
