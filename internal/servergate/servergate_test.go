package servergate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
)

type key struct{}

func TestHTTP(t *testing.T) {
	tests := map[string]struct {
		gate     HTTP
		wantCode int
		wantVal  any
	}{
		"a refused request never reaches the handler and gets the gate's answer": {
			gate: func(w http.ResponseWriter, _ *http.Request) (*http.Request, bool) {
				w.WriteHeader(http.StatusTooManyRequests)
				return nil, false
			},
			wantCode: http.StatusTooManyRequests,
		},
		"an admitted request reaches the handler with the gate's context": {
			gate: func(_ http.ResponseWriter, req *http.Request) (*http.Request, bool) {
				return req.WithContext(context.WithValue(req.Context(), key{}, "id")), true
			},
			wantCode: http.StatusNoContent,
			wantVal:  "id",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got any
			h, err := tt.gate.Wrap(context.Background(), http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				got = req.Context().Value(key{})
				w.WriteHeader(http.StatusNoContent)
			}))
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, tt.wantCode, rec.Code)
			assert.Equal(t, tt.wantVal, got)
		})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s stream) Context() context.Context { return s.ctx }

func TestGRPC(t *testing.T) {
	refused := errors.New("refused")
	base := context.WithValue(context.Background(), key{}, "call")
	tests := map[string]struct {
		gate     GRPC
		wantErr  error
		wantVal  any
		wrapped  bool
		wantCall bool
	}{
		"a refused call returns the gate's error and never runs the handler": {
			gate:    func(context.Context) (context.Context, error) { return nil, refused },
			wantErr: refused,
		},
		"a nil context keeps the call's own and the stream as it is": {
			gate:     func(context.Context) (context.Context, error) { return nil, nil },
			wantVal:  "call",
			wantCall: true,
		},
		"a new context reaches the handler, the stream wrapped to carry it": {
			gate: func(ctx context.Context) (context.Context, error) {
				return context.WithValue(ctx, key{}, "gate"), nil
			},
			wantVal:  "gate",
			wrapped:  true,
			wantCall: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Len(t, tt.gate.ServerOptions(), 2)
			var got any
			called := false
			_, err := tt.gate.Unary(base, nil, &grpc.UnaryServerInfo{}, func(ctx context.Context, _ any) (any, error) {
				called, got = true, ctx.Value(key{})
				return nil, nil
			})
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.wantCall, called)
			assert.Equal(t, tt.wantVal, got)

			called, got = false, nil
			in := stream{ctx: base}
			err = tt.gate.Stream(nil, in, &grpc.StreamServerInfo{}, func(_ any, ss grpc.ServerStream) error {
				called, got = true, ss.Context().Value(key{})
				if !tt.wrapped {
					assert.Equal(t, in, ss)
				}
				return nil
			})
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.wantCall, called)
			assert.Equal(t, tt.wantVal, got)
		})
	}
}
