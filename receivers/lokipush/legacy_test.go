package lokipush

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loki-client-go's JSON mode marshals push.PushRequest as is, which gives
// Loki's legacy shape: {"streams":[{"labels":"{...}","entries":[{"ts","line"}]}]}.
func TestLegacyJSONPushAsLokiClientGoSendsIt(t *testing.T) {
	body, err := json.Marshal(samplePush())
	require.NoError(t, err)
	require.Contains(t, string(body), `"labels":"{service_name=\"checkout\"`, "the push types marshal to the legacy shape")

	h := startReceiver(t, nil, nil)
	status, _, msg := h.post(t, contentTypeJSON, "", body, map[string]string{tenantHeader: "team-a"})
	require.Equal(t, http.StatusNoContent, status, msg)
	require.Equal(t, 3, h.sink.LogRecordCount())
	res, lr := record(t, h.sink, "order placed")
	assert.Equal(t, "checkout", res.AsRaw()["service.name"])
	assert.Equal(t, "team-a", res.AsRaw()[tenantAttribute])
	assert.Equal(t, "prod", lr.Attributes().AsRaw()["env"])
	assert.Equal(t, ts1.UnixNano(), int64(lr.Timestamp()))
}

func TestLegacyJSONKeepsStructuredMetadataAndRejectsBadStreams(t *testing.T) {
	body := `{"streams":[
	  {"labels":"{job=\"batch\", level=\"warn\"}","entries":[{"ts":"2023-11-14T22:13:20.123456789Z","line":"kept","structuredMetadata":{"trace_id":"abc"}}]},
	  {"labels":"{job=","entries":[{"ts":"2023-11-14T22:13:20Z","line":"lost"}]}]}`
	h := startReceiver(t, nil, nil)
	status, _, msg := h.post(t, contentTypeJSON, "", []byte(body), nil)
	require.Equal(t, http.StatusBadRequest, status, msg)
	assert.Contains(t, msg, "stream 1 rejected (invalid_labels)")
	require.Equal(t, 1, h.sink.LogRecordCount())
	res, lr := record(t, h.sink, "kept")
	assert.Equal(t, "batch", res.AsRaw()["job"])
	assert.Equal(t, map[string]any{"level": "warn", "trace_id": "abc"}, lr.Attributes().AsRaw())
	assert.Equal(t, int64(1700000000123456789), int64(lr.Timestamp()))
}
