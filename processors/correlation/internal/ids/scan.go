package ids

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
	i := skipWS(s, 0)
	return i < len(s) && s[i] == '{'
}

// ScanJSON walks the JSON object in s once and records the values of the
// keys m names into f, without building any map. String values are
// returned raw (without unescaping: ids never need escapes), numbers,
// booleans and null as their literal text. Nested objects are followed only
// where a key names a path below them. It returns false when s is not a
// well-formed object (what was found before the error is kept).
func ScanJSON(s string, m *Matcher, f *Found) bool {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	_, ok := scanObject(s, i, Path{}, m, f)
	return ok
}

// scanObject scans the object starting at s[i] == '{' and returns the
// index after it.
func scanObject(s string, i int, p Path, m *Matcher, f *Found) (int, bool) {
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for i < len(s) {
		if s[i] != '"' {
			return i, false
		}
		key, next, ok := scanString(s, i)
		if !ok {
			return next, false
		}
		i = skipWS(s, next)
		if i >= len(s) || s[i] != ':' {
			return i, false
		}
		i = skipWS(s, i+1)
		if i >= len(s) {
			return i, false
		}
		kp, pushed := p.Push(key)
		switch {
		case s[i] == '{' && pushed && m.IsPrefix(kp):
			i, ok = scanObject(s, i, kp, m, f)
		case s[i] == '"':
			var v string
			v, i, ok = scanString(s, i)
			if ok && pushed {
				if k := m.Match(kp); k >= 0 {
					f.Put(k, v)
				}
			}
		default:
			start := i
			i, ok = skipValue(s, i)
			if ok && pushed && s[start] != '{' && s[start] != '[' {
				if k := m.Match(kp); k >= 0 {
					f.Put(k, s[start:i])
				}
			}
		}
		if !ok {
			return i, false
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return i, false
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
	return i, false
}

// scanString returns the raw content of the string starting at s[i] == '"'.
func scanString(s string, i int) (string, int, bool) {
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

// skipValue skips any JSON value at s[i] without interpreting it.
func skipValue(s string, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			_, next, ok := scanString(s, i)
			if !ok {
				return next, false
			}
			i = next
			if depth == 0 {
				return i, true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, i > 0
			}
			depth--
			if depth == 0 {
				return i + 1, true
			}
		case ',':
			if depth == 0 {
				return i, true
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
		}
		i++
	}
	return i, depth == 0
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// ScanLogfmt walks a logfmt line (key=value key="quoted value") once and
// records the values of the keys m names into f. Dotted keys are flat in
// logfmt. Quoted values are returned without their quotes and unescaped
// only in the sense that escapes are left as they are. It returns true when
// at least one key=value pair was seen.
func ScanLogfmt(s string, m *Matcher, f *Found) bool {
	pairs := false
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' && s[i] != '"' {
			i++
		}
		key := s[start:i]
		if i >= len(s) || s[i] != '=' || key == "" {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			continue
		}
		i++
		var v string
		if i < len(s) && s[i] == '"' {
			var ok bool
			v, i, ok = scanString(s, i)
			if !ok {
				return pairs
			}
		} else {
			vs := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
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
