package ids

import (
	"math/bits"

	"github.com/obsd-dev/obsd/internal/jsonscan"
)

// Found reports the value found for each Matcher key: out[i] is the raw
// value of key i and set[i] whether it was seen. Only the first occurrence
// of a key counts.
type Found struct {
	Values [MaxKeys]string
	Set    uint64
}

// Reset clears f for reuse.
func (f *Found) Reset() { f.Set = 0 }

// Has reports whether key i was found.
func (f *Found) Has(i int) bool { return i >= 0 && i < MaxKeys && f.Set&(1<<uint(i)) != 0 }

// Get returns the value of key i and whether it was found.
func (f *Found) Get(i int) (string, bool) {
	if !f.Has(i) {
		return "", false
	}
	return f.Values[i], true
}

// Put records v for key i unless a value is already there.
func (f *Found) Put(i int, v string) {
	if i < 0 || i >= MaxKeys || f.Has(i) {
		return
	}
	f.Values[i] = v
	f.Set |= 1 << uint(i)
}

// LooksLikeJSONObject reports whether s, after leading white space, starts an object.
func LooksLikeJSONObject(s string) bool {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i < len(s) && s[i] == '{'
}

// ScanJSON walks the JSON object in s once, with the one JSON scanner
// (internal/jsonscan, Lenient: loggers' near-JSON such as NaN passes), and
// records the values of the keys m names into f, without building any
// map. String values are recorded raw (without unescaping: ids never need
// escapes), numbers, booleans and null as their literal text; objects and
// arrays are not values here. A field goes to the first key that names it.
// Nested objects are followed only where a key names a path below them.
// Reading stops once every key is found. It returns false when s is not
// a well-formed object as far as it was read (what was found before the
// error is kept).
func ScanJSON(s string, m *Matcher, f *Found) bool {
	err := m.fields.Scan(s, jsonscan.Lenient, func(keys uint64, v jsonscan.Value) uint64 {
		if v.Kind == jsonscan.Object || v.Kind == jsonscan.Array {
			return 0
		}
		k := bits.TrailingZeros64(keys)
		f.Put(k, v.Raw)
		return 1 << uint(k)
	})
	return err == nil
}

// quoted returns the raw content of the logfmt quoted value starting at
// s[i] == '"', and the index after it.
func quoted(s string, i int) (string, int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[i+1 : j], j + 1, true
		}
	}
	return "", len(s), false
}

// ScanLogfmt walks a logfmt line (key=value key="quoted value") once and
// records the values of the keys m names into f. Dotted keys are flat in
// logfmt. Quoted values are returned without their quotes and unescaped
// only in the sense that escapes are left as they are. Blanks (space,
// tab) and line ends (\r, \n) end a key or an unquoted value, so the
// trailing newline a container runtime keeps in the body is not part of
// the last value, and pairs on several lines are all read. It returns
// true when at least one key=value pair was seen.
func ScanLogfmt(s string, m *Matcher, f *Found) bool {
	pairs := false
	i := 0
	for i < len(s) {
		for i < len(s) && logfmtBlank(s[i]) {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != '"' && !logfmtBlank(s[i]) {
			i++
		}
		key := s[start:i]
		if i >= len(s) || s[i] != '=' || key == "" {
			for i < len(s) && !logfmtBlank(s[i]) {
				i++
			}
			continue
		}
		i++
		var v string
		if i < len(s) && s[i] == '"' {
			var ok bool
			v, i, ok = quoted(s, i)
			if !ok {
				return pairs
			}
		} else {
			vs := i
			for i < len(s) && !logfmtBlank(s[i]) {
				i++
			}
			v = s[vs:i]
		}
		pairs = true
		p, _ := Path{}.Push(key)
		if k := m.Match(p); k >= 0 {
			f.Put(k, v)
		}
	}
	return pairs
}

// logfmtBlank reports whether c separates logfmt pairs: a blank or a
// line end.
func logfmtBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
