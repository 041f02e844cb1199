package spec

import (
	"fmt"

	"github.com/obsd-dev/obsd/internal/yamllimit"
)

// MaxFileSize is the largest SLO file the readers accept.
const MaxFileSize = yamllimit.MaxBytes

// MaxExpandedNodes bounds an SLO file's YAML with every alias expanded: a
// "billion laughs" file of a few hundred bytes is refused before it is
// decoded, while ordinary anchors and merge keys stay usable.
const MaxExpandedNodes = yamllimit.MaxExpandedNodes

// CheckLimits refuses a file larger than MaxFileSize or whose aliases
// expand beyond MaxExpandedNodes, naming the file. Every reader runs it
// before it decodes anything.
func CheckLimits(file string, data []byte) error {
	if len(data) > MaxFileSize {
		return fmt.Errorf("%s: slo file is larger than %d bytes", file, MaxFileSize)
	}
	if err := yamllimit.Check(data, MaxExpandedNodes); err != nil {
		return fmt.Errorf("%s: invalid slo file: %w", file, err)
	}
	return nil
}
