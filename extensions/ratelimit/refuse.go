package ratelimit

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/obsd-dev/obsd/extensions/ratelimit/internal/limiter"
	"github.com/obsd-dev/obsd/internal/retryhint"
)

// refusalStatus is the google.rpc.Status of a refusal: RESOURCE_EXHAUSTED
// with a RetryInfo detail, which the OTLP spec makes retryable.
func refusalStatus(d limiter.Decision, delay time.Duration) *status.Status {
	msg := fmt.Sprintf("rate limit exceeded (%s limit, tier %s); retry after %s", d.RefusedBy, d.Tier, delay)
	return retryhint.Status(codes.ResourceExhausted, msg, delay)
}

// grpcRefusal is the error a refused gRPC call returns. The delay is the
// bucket's exact refill time, rounded up to the millisecond.
func grpcRefusal(d limiter.Decision) error {
	ms := math.Ceil(float64(d.RetryAfter) / float64(time.Millisecond))
	delay := max(time.Duration(ms)*time.Millisecond, time.Millisecond)
	return refusalStatus(d, delay).Err()
}

// writeHTTPRefusal answers 429 with Retry-After in whole seconds. The body is
// the google.rpc.Status the OTLP/HTTP spec asks for, encoded like the
// request (protobuf or JSON), or a line of text for other content types.
func writeHTTPRefusal(w http.ResponseWriter, req *http.Request, d limiter.Decision) {
	secs := retryhint.Seconds(d.RetryAfter)
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	st := refusalStatus(d, time.Duration(secs)*time.Second)
	var body []byte
	var err error
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch mt {
	case "application/x-protobuf":
		body, err = proto.Marshal(st.Proto())
	case "application/json":
		body, err = protojson.Marshal(st.Proto())
	default:
		err = errNotOTLP
	}
	if err != nil {
		mt, body = "text/plain; charset=utf-8", []byte(st.Message()+"\n")
	}
	h.Set("Content-Type", mt)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}

var errNotOTLP = fmt.Errorf("not an OTLP content type")
