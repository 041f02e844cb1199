package limiter

import (
	"strings"
	"sync"
)

// Other is the label value shared by every client that did not get its own.
const Other = "other"

// LabelSet hands out bounded metric label values: the first max distinct
// keys it is asked about (tier keys reserved first) keep their own value for
// the process lifetime; every later key is labelled Other. Label values are
// never reassigned, so a time series never changes meaning.
type LabelSet struct {
	mu     sync.Mutex
	max    int
	labels map[string]string
}

// NewLabelSet returns a set of at most max own values; reserved keys (tier
// members) are admitted first, up to max.
func NewLabelSet(max int, reserved []string) *LabelSet {
	s := &LabelSet{max: max, labels: make(map[string]string, min(max, 1024))}
	for _, k := range reserved {
		s.Label(k)
	}
	return s
}

// Label returns key's label value: key itself if it has (or can still get)
// its own value, Other otherwise.
func (s *LabelSet) Label(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.labels[key]; ok {
		return v
	}
	if len(s.labels) >= s.max {
		return Other
	}
	v := strings.Clone(key)
	s.labels[v] = v
	return v
}

// Len is the number of keys that have their own label value.
func (s *LabelSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.labels)
}
