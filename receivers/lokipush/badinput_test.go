package lokipush

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testLimit = 1 << 20 // 1 MiB

// snappyClaiming returns a snappy block header announcing n decoded bytes,
// followed by a few bytes: a bomb that must be refused before allocation.
func snappyClaiming(n uint64) []byte {
	b := binary.AppendUvarint(nil, n)
	return append(b, 0x00, 'a', 'b', 'c')
}

func TestBadInputGetsACleanClientError(t *testing.T) {
	good := protoBody(t, samplePush())
	rawProto, err := samplePush().Marshal()
	require.NoError(t, err)

	tests := []struct {
		name        string
		contentType string
		encoding    string
		body        []byte
		mod         func(*Config)
		status      int
		inMessage   string
		reason      string
	}{
		{name: "a protobuf body that is not snappy-compressed is a 400", contentType: contentTypeProtobuf,
			body: append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, rawProto...), status: http.StatusBadRequest, inMessage: "snappy", reason: requestMalformed},
		{name: "a snappy body holding garbage instead of a PushRequest is a 400", contentType: contentTypeProtobuf,
			body: snappy.Encode(nil, []byte("\x0a\xff\xff\xff\xff\x0fgarbage")), status: http.StatusBadRequest, inMessage: "not a protobuf PushRequest", reason: requestMalformed},
		{name: "a truncated snappy body is a 400", contentType: contentTypeProtobuf,
			body: good[:len(good)/2], status: http.StatusBadRequest, inMessage: "snappy", reason: requestMalformed},
		{name: "a truncated protobuf inside valid snappy is a 400", contentType: contentTypeProtobuf,
			body: snappy.Encode(nil, rawProto[:len(rawProto)-7]), status: http.StatusBadRequest, inMessage: "PushRequest", reason: requestMalformed},
		{name: "a truncated JSON body is a 400", contentType: contentTypeJSON,
			body: []byte(sampleJSON[:len(sampleJSON)/2]), status: http.StatusBadRequest, inMessage: "not a JSON push request", reason: requestMalformed},
		{name: "a JSON body of the wrong shape is a 400", contentType: contentTypeJSON,
			body: []byte(`{"streams":{"a":1}}`), status: http.StatusBadRequest, inMessage: "not a JSON push request", reason: requestMalformed},
		{name: "a deeply nested JSON body is a 400, not a stack overflow", contentType: contentTypeJSON,
			body: []byte(`{"streams":` + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + `}`), status: http.StatusBadRequest, reason: requestMalformed},
		{name: "deeply nested JSON in structured metadata rejects only its stream", contentType: contentTypeJSON,
			body:   []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x",` + strings.Repeat(`{"k":`, 2_000) + `"v"` + strings.Repeat("}", 2_000) + `]]}]}`),
			status: http.StatusBadRequest, inMessage: "stream 0 rejected (invalid_entry)"},
		{name: "a text/plain body is a 415", contentType: "text/plain",
			body: []byte("hello"), status: http.StatusUnsupportedMediaType, inMessage: "unsupported Content-Type", reason: requestUnsupportedMedia},
		{name: "an unparsable Content-Type is a 415", contentType: "application/json; ===",
			body: []byte(sampleJSON), status: http.StatusUnsupportedMediaType, reason: requestUnsupportedMedia},
		{name: "an unknown Content-Encoding is refused", contentType: contentTypeJSON, encoding: "br",
			body: []byte(sampleJSON), status: http.StatusBadRequest, inMessage: "Content-Encoding"},
		{name: "an unknown Content-Encoding is a 415 when the server's decoders are off", contentType: contentTypeJSON, encoding: "br",
			mod: func(c *Config) { c.ServerConfig.CompressionAlgorithms = []string{} }, body: []byte(sampleJSON),
			status: http.StatusUnsupportedMediaType, inMessage: "Content-Encoding", reason: requestUnsupportedMedia},
		{name: "a raw body over the limit is a 413", contentType: contentTypeJSON,
			body: bytes.Repeat([]byte(" "), testLimit+10), status: http.StatusRequestEntityTooLarge, reason: requestTooLarge},
		{name: "a snappy body announcing more than the limit is a 413 before allocation", contentType: contentTypeProtobuf,
			body: snappyClaiming(1 << 30), status: http.StatusRequestEntityTooLarge, inMessage: "decompresses to", reason: requestTooLarge},
		{name: "a snappy body decompressing just past the limit is a 413", contentType: contentTypeProtobuf,
			body: snappy.Encode(nil, make([]byte, testLimit+1)), status: http.StatusRequestEntityTooLarge, reason: requestTooLarge},
		{name: "a gzip zip bomb is a 413", contentType: contentTypeJSON, encoding: "gzip",
			body: gzipped(t, make([]byte, 64<<20)), status: http.StatusRequestEntityTooLarge, reason: requestTooLarge},
		{name: "a gzip zip bomb is a 413 when the receiver decompresses itself", contentType: contentTypeJSON, encoding: "gzip",
			mod: func(c *Config) { c.ServerConfig.CompressionAlgorithms = []string{} }, body: gzipped(t, make([]byte, 64<<20)),
			status: http.StatusRequestEntityTooLarge, reason: requestTooLarge},
		{name: "a corrupt gzip body is a 400", contentType: contentTypeJSON, encoding: "gzip",
			body: []byte("not gzip at all"), status: http.StatusBadRequest},
		{name: "a stream with no labels is rejected", contentType: contentTypeProtobuf,
			body:   protoBody(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{}`, Entries: []push.Entry{{Timestamp: ts1, Line: "x"}}}}}),
			status: http.StatusBadRequest, inMessage: "at least one label pair"},
		{name: "a stream with a metric name is rejected", contentType: contentTypeProtobuf,
			body:   protoBody(t, &push.PushRequest{Streams: []push.Stream{{Labels: `up{a="b"}`, Entries: []push.Entry{{Timestamp: ts1, Line: "x"}}}}}),
			status: http.StatusBadRequest, inMessage: "without a metric name"},
		{name: "a stream with a dotted UTF-8 label name is rejected", contentType: contentTypeProtobuf,
			body:   protoBody(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{"a.b"="c"}`, Entries: []push.Entry{{Timestamp: ts1, Line: "x"}}}}}),
			status: http.StatusBadRequest, inMessage: "invalid label name"},
		{name: "a JSON value with one element is rejected", contentType: contentTypeJSON,
			body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}`), status: http.StatusBadRequest, inMessage: "2 or 3 elements"},
		{name: "a JSON label with an invalid name is rejected", contentType: contentTypeJSON,
			body: []byte(`{"streams":[{"stream":{"1a":"b"},"values":[["1","x"]]}]}`), status: http.StatusBadRequest, inMessage: "invalid label name"},
		{name: "a negative JSON timestamp is rejected", contentType: contentTypeJSON,
			body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["-5","x"]]}]}`), status: http.StatusBadRequest, inMessage: "non-negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReceiver(t, nil, func(c *Config) {
				c.ServerConfig.MaxRequestBodySize = testLimit
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			status, _, msg := h.post(t, tt.contentType, tt.encoding, tt.body, nil)
			require.Equal(t, tt.status, status, msg)
			assert.Contains(t, msg, tt.inMessage)
			assert.Zero(t, h.sink.LogRecordCount(), "nothing may reach the pipeline")
			if tt.reason != "" {
				assert.Equal(t, int64(1), h.counter(t, "obsd_lokipush_rejected_requests_total", tt.reason))
			}
		})
	}
}

func TestOnlyPostIsServed(t *testing.T) {
	h := startReceiver(t, nil, nil)
	resp, err := h.client.Get(h.url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestInvalidTenantIsRefused(t *testing.T) {
	tests := []struct{ name, tenant string }{
		{"a tenant with a pipe (a multi-tenant query form) is refused", "a|b"},
		{"a tenant with a slash is refused", "a/b"},
		{"a tenant of 151 characters is refused", strings.Repeat("t", 151)},
		{"the tenant '..' is refused", ".."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReceiver(t, nil, nil)
			status, _, msg := h.post(t, contentTypeProtobuf, "", protoBody(t, samplePush()), map[string]string{tenantHeader: tt.tenant})
			require.Equal(t, http.StatusBadRequest, status, msg)
			assert.Contains(t, msg, "invalid X-Scope-OrgID")
			assert.Zero(t, h.sink.LogRecordCount())
			assert.Equal(t, int64(1), h.counter(t, "obsd_lokipush_rejected_requests_total", requestMalformed))
		})
	}
}
