package spec

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// ErrNotJSONObject is returned by JSONField for text that is not a JSON
// object (as far as it was read).
var ErrNotJSONObject = errors.New("body is not a JSON object")

// maxJSONDepth bounds the nesting JSONField follows.
const maxJSONDepth = 64

// JSONField finds the value at path (object keys, outermost first) in the
// JSON object text data, without building the document. The value comes
// back as text: a string unescaped, a number, true or false as written,
// null as "", an object or array as its raw JSON. found is false when the
// path is absent (or crosses a non-object). Escaped strings are decoded
// into buf, which is returned for reuse; the result may point into data or
// buf and is valid until buf is reused. Reading stops after the value
// found and the delimiter after it: data further on is not checked. It
// never panics and does not allocate
// unless buf must grow.
func JSONField(data string, path []string, buf []byte) (val string, found bool, nbuf []byte, err error) {
	sc := jsonScanner{s: data, buf: buf[:0]}
	sc.ws()
	if len(path) == 0 || sc.peek() != '{' {
		return "", false, buf, ErrNotJSONObject
	}
	val, found, err = sc.find(path, 0)
	if err != nil {
		return "", false, sc.buf, errors.Join(ErrNotJSONObject, err)
	}
	return val, found, sc.buf, nil
}

type jsonScanner struct {
	s   string
	i   int
	buf []byte
}

var errJSONSyntax = errors.New("invalid JSON")

func (sc *jsonScanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *jsonScanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		default:
			return
		}
	}
}

func (sc *jsonScanner) expect(c byte) error {
	sc.ws()
	if sc.peek() != c {
		return errJSONSyntax
	}
	sc.i++
	return nil
}

// find reads the object at sc.i and returns the value at path in it; the
// whole object is read when the path is absent.
func (sc *jsonScanner) find(path []string, depth int) (string, bool, error) {
	if depth >= maxJSONDepth {
		return "", false, errors.New("JSON nested too deeply")
	}
	if err := sc.expect('{'); err != nil {
		return "", false, err
	}
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		return "", false, nil
	}
	for {
		sc.ws()
		if sc.peek() != '"' {
			return "", false, errJSONSyntax
		}
		key, err := sc.str()
		if err != nil {
			return "", false, err
		}
		hit := key == path[0]
		if err := sc.expect(':'); err != nil {
			return "", false, err
		}
		sc.ws()
		switch {
		case hit && len(path) == 1:
			v, err := sc.value(depth + 1)
			if err == nil {
				if sc.ws(); sc.peek() != ',' && sc.peek() != '}' {
					err = errJSONSyntax // e.g. 01, or a missing comma
				}
			}
			return v, err == nil, err
		case hit && sc.peek() == '{':
			return sc.find(path[1:], depth+1)
		default:
			if _, err := sc.value(depth + 1); err != nil {
				return "", false, err
			}
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return "", false, nil
		default:
			return "", false, errJSONSyntax
		}
	}
}

// value reads one value and returns its text (see JSONField).
func (sc *jsonScanner) value(depth int) (string, error) {
	if depth >= maxJSONDepth {
		return "", errors.New("JSON nested too deeply")
	}
	sc.ws()
	start := sc.i
	switch c := sc.peek(); {
	case c == '"':
		return sc.str()
	case c == '{' || c == '[':
		if err := sc.container(depth); err != nil {
			return "", err
		}
		return sc.s[start:sc.i], nil
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		_, err := sc.literal("null")
		return "", err
	case c == '-' || (c >= '0' && c <= '9'):
		return sc.number()
	}
	return "", errJSONSyntax
}

// container skips an object or array.
func (sc *jsonScanner) container(depth int) error {
	open := sc.s[sc.i]
	sc.i++
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	sc.ws()
	if sc.peek() == closing {
		sc.i++
		return nil
	}
	for {
		sc.ws()
		if open == '{' {
			if sc.peek() != '"' {
				return errJSONSyntax
			}
			if _, err := sc.skipStr(); err != nil {
				return err
			}
			if err := sc.expect(':'); err != nil {
				return err
			}
		}
		if _, err := sc.value(depth + 1); err != nil {
			return err
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
		case closing:
			sc.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (sc *jsonScanner) literal(lit string) (string, error) {
	if len(sc.s)-sc.i < len(lit) || sc.s[sc.i:sc.i+len(lit)] != lit {
		return "", errJSONSyntax
	}
	sc.i += len(lit)
	return lit, nil
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// number reads a JSON number (RFC 8259 grammar).
func (sc *jsonScanner) number() (string, error) {
	s, start, i := sc.s, sc.i, sc.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return "", errJSONSyntax
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return "", errJSONSyntax
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return "", errJSONSyntax
		}
		i = j
	}
	sc.i = i
	return s[start:i], nil
}

// skipStr skips a string without decoding it; plain reports that it
// holds neither escapes nor non-ASCII bytes.
func (sc *jsonScanner) skipStr() (plain bool, err error) {
	sc.i++
	plain = true
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case c == '"':
			sc.i++
			return plain, nil
		case c == '\\':
			sc.i += 2
			plain = false
		case c < 0x20:
			return false, errJSONSyntax
		case c >= 0x80:
			sc.i++
			plain = false
		default:
			sc.i++
		}
	}
	return false, errJSONSyntax
}

// str reads a string at sc.i; without escapes it is a substring of the
// input, else it is decoded into sc.buf, overwriting the previous
// decoded string (invalid UTF-8 and lone surrogates become U+FFFD, as
// encoding/json does).
func (sc *jsonScanner) str() (string, error) {
	start := sc.i + 1
	plain, err := sc.skipStr()
	if err != nil {
		return "", err
	}
	raw := sc.s[start : sc.i-1]
	clean := plain
	if !plain && utf8.ValidString(raw) {
		clean = strings.IndexByte(raw, '\\') < 0
	}
	if clean {
		return raw, nil
	}
	b := sc.buf[:0]
	for j := 0; j < len(raw); {
		c := raw[j]
		if c != '\\' {
			r, n := utf8.DecodeRuneInString(raw[j:])
			b = utf8.AppendRune(b, r)
			j += n
			continue
		}
		if j+1 >= len(raw) {
			return "", errJSONSyntax
		}
		j += 2
		switch raw[j-1] {
		case '"', '\\', '/':
			b = append(b, raw[j-1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n, ok := hex4(raw, j)
			if !ok {
				return "", errJSONSyntax
			}
			j = n
			if utf16.IsSurrogate(r) {
				r2, n2, ok2 := rune(0), j, false
				if j+1 < len(raw) && raw[j] == '\\' && raw[j+1] == 'u' {
					r2, n2, ok2 = hex4(raw, j+2)
				}
				if d := utf16.DecodeRune(r, r2); ok2 && d != utf8.RuneError {
					r, j = d, n2
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errJSONSyntax
		}
	}
	sc.buf = b
	if len(b) == 0 {
		return "", nil
	}
	return unsafe.String(&b[0], len(b)), nil
}

func hex4(s string, i int) (rune, int, bool) {
	if i+4 > len(s) {
		return 0, i, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			r |= rune(c|0x20-'a') + 10
		default:
			return 0, i, false
		}
	}
	return r, i + 4, true
}
