// Package retryhint builds the refusals obsd answers with so that clients
// retry them, and after a delay: the HTTP Retry-After value and a gRPC
// status carrying a RetryInfo detail (without one, the OTLP spec makes
// RESOURCE_EXHAUSTED non-retryable). The rate limiter and the circuit
// breaker build their refusals with it; Receiver gives the OTLP receiver's
// pipeline refusals (memory_limiter, a full or unwritable queue) the same
// shape.
package retryhint

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Seconds is d rounded up to whole seconds, at least 1, as the HTTP
// Retry-After header carries it.
func Seconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Status is a status of code and msg with a RetryInfo detail of delay.
func Status(code codes.Code, msg string, delay time.Duration) *status.Status {
	st := status.New(code, msg)
	withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil { // only for a detail that cannot be marshalled; RetryInfo can
		return st
	}
	return withInfo
}
