package retryhint

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

func TestSeconds(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int64
	}{
		{"a sub-second delay asks for one second", 10 * time.Millisecond, 1},
		{"no delay still asks for one second", 0, 1},
		{"a whole number of seconds is kept", 3 * time.Second, 3},
		{"a fraction above a whole second rounds up", 3*time.Second + time.Nanosecond, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Seconds(tt.in))
		})
	}
}

func TestStatusCarriesRetryInfo(t *testing.T) {
	st := Status(codes.ResourceExhausted, "slow down", 1500*time.Millisecond)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Equal(t, "slow down", st.Message())
	require.Len(t, st.Details(), 1)
	info, ok := st.Details()[0].(*errdetails.RetryInfo)
	require.True(t, ok, "the detail is a RetryInfo, got %T", st.Details()[0])
	assert.Equal(t, 1500*time.Millisecond, info.GetRetryDelay().AsDuration())
}
