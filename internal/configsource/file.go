package configsource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/internal/yamllimit"
)

// fileScheme is the collector's `file:` config source, which obsd replaces
// with limitedFileProvider under the same name.
const fileScheme = "file"

// Limits of a config file read through `file:` (and bare paths given to
// --config): oversize files and YAML alias bombs are refused with a clear
// error before the collector decodes them.
const (
	maxConfigFileBytes         = yamllimit.MaxBytes
	maxConfigFileExpandedNodes = yamllimit.MaxExpandedNodes
)

// limitedFileProvider is the upstream file provider with limits: it reads
// at most maxBytes+1 bytes and checks the YAML's alias-expanded size before
// handing it on.
type limitedFileProvider struct {
	maxBytes int64
	maxNodes int
}

// NewFileProviderFactory is the collector's `file:` config source (also
// used for bare paths given to --config) with obsd's limits.
func NewFileProviderFactory() confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider {
		return &limitedFileProvider{maxBytes: maxConfigFileBytes, maxNodes: maxConfigFileExpandedNodes}
	})
}

func (p *limitedFileProvider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	if !strings.HasPrefix(uri, fileScheme+":") {
		return nil, fmt.Errorf("%q uri is not supported by %q provider", uri, fileScheme)
	}
	path := filepath.Clean(uri[len(fileScheme)+1:])
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("unable to read the file %v: %w", uri, err)
	}
	defer f.Close()
	data, err := yamllimit.ReadAll(f, p.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("config file %s refused: %w", path, err)
	}
	if err := yamllimit.Check(data, p.maxNodes); err != nil {
		return nil, fmt.Errorf("config file %s refused: %w", path, err)
	}
	return confmap.NewRetrievedFromYAML(data)
}

func (*limitedFileProvider) Scheme() string { return fileScheme }

func (*limitedFileProvider) Shutdown(context.Context) error { return nil }
