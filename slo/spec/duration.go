package spec

import (
	"fmt"

	"github.com/prometheus/common/model"
	yaml "go.yaml.in/yaml/v3"
	"time"
)

// Duration is a YAML duration in Prometheus notation ("30d", "5m", "1h30m").
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
