package ratelimit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/client"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestClientKeys(t *testing.T) {
	peerAddr := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5555}
	withClient := func(auth client.AuthData) context.Context {
		return client.NewContext(context.Background(), client.Info{Addr: peerAddr, Auth: auth})
	}
	tests := []struct {
		name   string
		key    string
		ctx    context.Context
		header string // X-Scope-OrgID on HTTP, x-scope-orgid metadata on gRPC
		want   string
	}{
		{name: "peer keys by the client's IP without its port", key: "peer", ctx: withClient(nil), want: "10.1.2.3"},
		{name: "a tenant header keys by its value", key: "header:X-Scope-OrgID", ctx: withClient(nil), header: "acme", want: "acme"},
		{name: "a missing tenant header falls back to the peer IP", key: "header:X-Scope-OrgID", ctx: withClient(nil), want: "10.1.2.3"},
		{name: "auth keys by the authenticated subject", key: "auth", ctx: withClient(fakeAuth{"subject": "svc-a"}), want: "svc-a"},
		{name: "auth may name another attribute", key: "auth:tenant", ctx: withClient(fakeAuth{"tenant": "t1", "subject": "x"}), want: "t1"},
		{name: "no auth data falls back to the peer IP", key: "auth", ctx: withClient(nil), want: "10.1.2.3"},
		{name: "a non-string auth attribute falls back to the peer IP", key: "auth", ctx: withClient(fakeAuth{"subject": []string{"a"}}), want: "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Key = tt.key
			ext, _ := newTestExtension(t, cfg)

			req := httptest.NewRequest(http.MethodPost, "/v1/logs", nil).WithContext(tt.ctx)
			if tt.header != "" {
				req.Header.Set("X-Scope-OrgID", tt.header)
			}
			assert.Equal(t, tt.want, ext.httpKey(req), "HTTP")

			ctx := tt.ctx
			if tt.header != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-scope-orgid", tt.header))
			}
			assert.Equal(t, tt.want, ext.grpcKey(ctx), "gRPC")
		})
	}
}

func TestClientKeysWithoutClientInfo(t *testing.T) {
	ext, _ := newTestExtension(t, testConfig())
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", nil)
	req.RemoteAddr = "192.0.2.7:4444"
	assert.Equal(t, "192.0.2.7", ext.httpKey(req), "HTTP falls back to RemoteAddr")
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP("::1"), Port: 1}})
	assert.Equal(t, "::1", ext.grpcKey(ctx), "gRPC falls back to the transport peer")
	assert.Equal(t, unknownClient, ext.grpcKey(context.Background()))
}
