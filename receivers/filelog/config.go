package filelog

import (
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/parser/container"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
)

// Config is contrib's file_log receiver configuration, unchanged: every key
// of the upstream receiver (include, exclude, start_at, max_log_size,
// storage, retry_on_failure, operators, ...) means the same here, and the
// upstream receiver validates it when it is built. obsd adds no key.
type Config = filelogreceiver.FileLogConfig

// maxCRIPrefix bounds the bytes the container parser removes from the
// front of a CRI line (timestamp with a zone offset, stream, tag and three
// spaces: 46 in practice), so that a line the reader truncated is still
// recognised after parsing.
const maxCRIPrefix = 64

// oversizeThreshold is the body length, in bytes, from which a record is
// counted as cut at a size limit.
//
// The reader (fileconsumer) cuts a physical line at max_log_size: split
// into chunks of exactly that size, or truncated to it. The container
// parser's recombine cuts a logical line (joined P/F chunks) once its body
// grows past its own max_log_size, flushing a record longer than that.
// Either way the record is at least the threshold long; a whole line just
// under the reader's limit (within maxCRIPrefix bytes) is counted too.
// Records whose body is not a string (a parser turned it into a map) are
// not measured.
func oversizeThreshold(cfg *Config) int {
	limit := int(cfg.InputConfig.MaxLogSize)
	hasContainer := false
	for _, op := range cfg.Operators {
		c, ok := op.Builder.(*container.Config)
		if !ok {
			continue
		}
		hasContainer = true
		if m := int(c.MaxLogSize); m > 0 && m < limit {
			limit = m
		}
	}
	if hasContainer && int(cfg.InputConfig.MaxLogSize)-maxCRIPrefix < limit {
		limit = int(cfg.InputConfig.MaxLogSize) - maxCRIPrefix
	}
	return max(limit, 1)
}
