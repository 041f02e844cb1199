package configsource

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
)

func TestEmbeddedProvider(t *testing.T) {
	configs := map[string][]byte{"default": []byte("a: 1\n"), "gateway": []byte("a: 2\n")}
	p := NewEmbeddedProviderFactory(configs).Create(confmap.ProviderSettings{})
	if p.Scheme() != "embedded" {
		t.Fatalf("scheme %q", p.Scheme())
	}
	tests := []struct {
		name    string
		uri     string
		want    any
		wantErr string
	}{
		{"a config is served by name", "embedded:default", 1, ""},
		{"each name has its own config", "embedded:gateway", 2, ""},
		{"an unknown name says which exist", "embedded:other", nil, `no embedded config named "other" (known: default, gateway)`},
		{"another scheme is refused", "file:default", nil, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ret, err := p.Retrieve(context.Background(), tt.uri, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			conf, err := ret.AsConf()
			if err != nil || conf.Get("a") != tt.want {
				t.Fatalf("conf %v (err %v), want a=%v", conf.ToStringMap(), err, tt.want)
			}
		})
	}
}

func TestEmbeddedConfigsResolveThroughObsdsSources(t *testing.T) {
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{"embedded:default"},
		ProviderFactories: ProviderFactories(map[string][]byte{"default": []byte("receivers: {otlp: {}}\n")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := r.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !conf.IsSet("receivers::otlp") {
		t.Fatalf("resolved %v", conf.ToStringMap())
	}
}
