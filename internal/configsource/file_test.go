package configsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/internal/yamllimit"
)

// billionLaughsConfig is a config whose aliases expand to ~10^9 nodes.
func billionLaughsConfig() string {
	var b strings.Builder
	b.WriteString("receivers:\n  otlp:\n    protocols: {grpc: {}}\n")
	b.WriteString("x0: &x0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 10; i++ {
		p := fmt.Sprintf("*x%d", i-1)
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(p+",", 9), ","))
	}
	return b.String()
}

func TestLimitedFileProvider(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name    string
		path    string
		max     int64
		wantErr error
		wantMsg string
	}{
		{"an ordinary config with anchors is read", write("ok.yaml", "a: &d {x: 1}\nb: *d\n"), 1 << 20, nil, ""},
		{"a billion-laughs config is refused before decoding", write("bomb.yaml", billionLaughsConfig()), 1 << 20, yamllimit.ErrAliasBomb, "bomb.yaml refused"},
		{"a file over the size limit is refused", write("big.yaml", "a: "+strings.Repeat("x", 2048)+"\n"), 1024, yamllimit.ErrTooLarge, "big.yaml refused"},
		{"a missing file says so", filepath.Join(dir, "missing.yaml"), 1024, os.ErrNotExist, "unable to read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &limitedFileProvider{maxBytes: tt.max, maxNodes: maxConfigFileExpandedNodes}
			ret, err := p.Retrieve(context.Background(), "file:"+tt.path, nil)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Retrieve: %v", err)
				}
				conf, err := ret.AsConf()
				if err != nil || conf.Get("b::x") != 1 {
					t.Fatalf("conf %v, err %v", conf.ToStringMap(), err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

func TestConfigResolverUsesTheLimitedFileProvider(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb.yaml")
	if err := os.WriteFile(path, []byte(billionLaughsConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	set := confmap.ResolverSettings{ProviderFactories: ProviderFactories(nil)}
	set.URIs = []string{path} // a bare path, as --config gives it
	set.DefaultScheme = "env" // as otelcol sets it
	r, err := confmap.NewResolver(set)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(context.Background())
	if !errors.Is(err, yamllimit.ErrAliasBomb) {
		t.Fatalf("resolving a bomb through obsd's providers: %v", err)
	}
}
