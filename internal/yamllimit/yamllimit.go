// Package yamllimit refuses hostile YAML before anything decodes it: files
// over a size limit, and alias bombs ("billion laughs"), whose aliases
// expand a small document into an enormous one. The alias check decodes
// into yaml.Node (which never expands aliases) and counts the nodes the
// document would have with every alias expanded, in time linear in its
// size.
package yamllimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

const (
	// MaxBytes is the largest config or SLO file obsd reads: 4 MiB.
	MaxBytes = 4 << 20
	// MaxExpandedNodes bounds the nodes of a document with its aliases
	// expanded. Real configs have a few thousand; a billion-laughs document
	// has billions.
	MaxExpandedNodes = 1_000_000
)

// ErrTooLarge is wrapped by the error for a file over the size limit.
var ErrTooLarge = errors.New("file too large")

// ErrAliasBomb is wrapped by the error for a document whose aliases expand
// beyond MaxExpandedNodes.
var ErrAliasBomb = errors.New("YAML aliases expand too far")

// ReadAll reads r up to maxBytes and fails with ErrTooLarge beyond it,
// without reading more than maxBytes+1 bytes.
func ReadAll(r io.Reader, maxBytes int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
	}
	return data, nil
}

// Check parses data (every document of a stream) as yaml.Node and fails
// with ErrAliasBomb when its alias-expanded node count exceeds maxNodes.
// Syntax errors are returned as they are; the caller's decoder would
// report them anyway.
func Check(data []byte, maxNodes int) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	total := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		c := counter{memo: map[*yaml.Node]int{}, limit: maxNodes}
		total = sat(total+c.count(&doc, 0), maxNodes)
		if total > maxNodes {
			return fmt.Errorf("%w: the document expands to more than %d nodes (an alias bomb?); write it out without aliases", ErrAliasBomb, maxNodes)
		}
	}
}

// maxDepth bounds the recursion of count; yaml.v3 itself refuses documents
// nested deeper than 10,000 levels, and no config nests beyond a few dozen.
const maxDepth = 10_000

type counter struct {
	memo  map[*yaml.Node]int
	limit int
}

// count is the node count of n with aliases expanded, saturated at
// limit+1. Memoised per node, so a node referenced a million times is
// walked once.
func (c *counter) count(n *yaml.Node, depth int) int {
	if n == nil {
		return 0
	}
	if v, ok := c.memo[n]; ok {
		return v
	}
	if depth > maxDepth {
		return c.limit + 1
	}
	c.memo[n] = c.limit + 1 // a cycle (an alias inside its own anchor) counts as infinite
	total := 1
	if n.Kind == yaml.AliasNode {
		total = sat(total+c.count(n.Alias, depth+1), c.limit)
	}
	for _, child := range n.Content {
		total = sat(total+c.count(child, depth+1), c.limit)
	}
	c.memo[n] = total
	return total
}

// sat caps v at limit+1 so sums never overflow.
func sat(v, limit int) int {
	if v > limit || v < 0 {
		return limit + 1
	}
	return v
}
