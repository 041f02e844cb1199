package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a value.
type Kind uint8

// Value kinds.
const (
	String Kind = iota + 1
	Number
	True
	False
	Null
	Object
	Array
	// Bare is a value Lenient read that is not JSON (NaN, an unquoted
	// word, or nothing before the next delimiter).
	Bare
)

// Value is one field value as found in the text.
type Value struct {
	// Raw is the value as written: for a String the text between the
	// quotes, undecoded (AppendText decodes it); for an Object or Array
	// its whole text; for the rest the literal ("null", "503", "NaN").
	Raw  string
	Kind Kind
	// escaped: Raw holds a backslash; nonASCII: Raw may hold bytes beyond
	// ASCII (and so may be invalid UTF-8).
	escaped, nonASCII bool
}

// Plain reports whether a String's Raw text is its value: it holds no
// escapes and is valid UTF-8. Values of other kinds are always plain.
func (v Value) Plain() bool {
	return v.Kind != String || (!v.escaped && (!v.nonASCII || utf8.ValidString(v.Raw)))
}

// AppendText appends the value's text to dst: a String decoded (escapes
// resolved; invalid UTF-8 and lone surrogates become U+FFFD, as
// encoding/json does), any other kind as written. An invalid escape is
// ErrSyntax. It allocates only when dst must grow.
func (v Value) AppendText(dst []byte) ([]byte, error) {
	if v.Kind != String {
		return append(dst, v.Raw...), nil
	}
	return appendDecoded(dst, v.Raw)
}

// appendDecoded appends the decoded text of the inside of a JSON string.
func appendDecoded(b []byte, raw string) ([]byte, error) {
	for j := 0; j < len(raw); {
		c := raw[j]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b = append(b, c)
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(raw[j:])
			b = utf8.AppendRune(b, r)
			j += n
			continue
		}
		if j+1 >= len(raw) {
			return b, ErrSyntax
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
				return b, ErrSyntax
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
			return b, ErrSyntax
		}
	}
	return b, nil
}

func hex4(s string, i int) (rune, int, bool) {
	if i+4 > len(s) {
		return 0, i, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
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
