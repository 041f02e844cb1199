package main

import (
	_ "embed"

	"github.com/obsd-dev/obsd/internal/configsource"
)

// defaultConfigURI names the config obsd runs on when no --config is given.
const defaultConfigURI = configsource.EmbeddedScheme + ":default"

//go:embed default.yaml
var defaultConfigYAML []byte

// embeddedConfigs maps the names after "embedded:" to their YAML.
var embeddedConfigs = map[string][]byte{
	"default": defaultConfigYAML,
}
