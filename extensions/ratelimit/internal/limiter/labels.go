package limiter

import "strings"

// Other is the label value shared by every client that did not get its own.
const Other = "other"

// labelSet hands out bounded metric label values: the first max distinct
// keys it is asked about (tier keys reserved first) keep their own value for
// the process lifetime; every later key is labelled Other. Label values are
// never reassigned, so a time series never changes meaning. It is not safe
// for concurrent use: the Limiter calls it with its mutex held.
type labelSet struct {
	max    int
	labels map[string]string
}

// newLabelSet returns a set of at most max own values; reserved keys (tier
// members) are admitted first, up to max.
func newLabelSet(max int, reserved []string) *labelSet {
	s := &labelSet{max: max, labels: make(map[string]string, min(max, 1024))}
	for _, k := range reserved {
		s.label(k)
	}
	return s
}

// label returns key's label value: key itself if it has (or can still get)
// its own value, Other otherwise.
func (s *labelSet) label(key string) string {
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
