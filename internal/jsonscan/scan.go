package jsonscan

import (
	"errors"
	"strings"
)

// MaxDepth bounds the nesting Scan reads: the top-level object is level 1,
// and a container at level MaxDepth must be empty (a value inside it is
// ErrTooDeep). Reading is iterative apart from the objects a key names a
// field below, so the stack stays small whatever the input.
const MaxDepth = 64

// The errors of Scan. Every error but ErrNotObject means the object is
// malformed (as far as it was read).
var (
	// ErrNotObject: the text, after leading white space, does not start
	// with '{'.
	ErrNotObject = errors.New("not a JSON object")
	// ErrSyntax: the object is not well-formed JSON (Strict), or is
	// broken beyond what Lenient passes over.
	ErrSyntax = errors.New("invalid JSON")
	// ErrTooDeep: a value is nested deeper than MaxDepth.
	ErrTooDeep = errors.New("JSON nested too deeply")
	// errStop unwinds a scan once every key is done.
	errStop = errors.New("every key is done")
)

// Mode says how strictly Scan reads.
type Mode uint8

// Scan modes.
const (
	// Strict reads RFC 8259 JSON: any syntax error ends the scan and is
	// returned, even in values no key asks for, except that the escapes
	// of names inside objects no key reads into are not checked. A value
	// is reported only once the ',' or '}' after it is read.
	Strict Mode = iota
	// Lenient reads what loggers write that is almost JSON: a value no key
	// descends into is passed over by its quotes and brackets without
	// checking what is inside, a bare word (NaN, an unquoted value) is a
	// value, and a value is reported as soon as it is read, so a body cut
	// right after it still yields it. Strings are not checked for control
	// characters. It stops at what it cannot get past (a key that is not
	// a string, a missing ':', an unterminated string, the end of the
	// text) and returns ErrSyntax then.
	Lenient
)

// FoundFunc receives one field from Scan: keys is the set of every key
// that names the field (bit i: key i; at least one of them is not done),
// and v its value, valid as long as the scanned text. It returns the keys
// that take the value: a key taken is done, and no later field is
// reported for it alone. Returning keys takes the value for all of them
// (first field wins); returning 0 leaves them looking.
type FoundFunc func(keys uint64, v Value) (taken uint64)

// Scan reads the JSON object in data once and calls found for the fields
// the keys of f name, until every key is done or the object ends. A key
// given by Path is also done, unfound, when the first object on its path
// ends without the field. Reading stops when every key is done: the text
// after that is not checked. Fields of arrays are never reported. Scan
// never panics and does not allocate, except to compare a key name that
// holds escapes and is longer than 32 bytes once decoded.
func (f *Fields) Scan(data string, mode Mode, found FoundFunc) error {
	sc := scanner{s: data, lenient: mode == Lenient, all: f.all, pathKeys: f.pathKeys}
	sc.ws()
	if sc.peek() != '{' {
		return ErrNotObject
	}
	if err := sc.object(f, found, f.Root(), 1); err != nil && err != errStop {
		return err
	}
	return nil
}

// Find returns the value of the field at path (object keys, outermost
// first) in the JSON object data: Scan for the one key Key{Path: path},
// without compiling a Fields and without allocating.
func Find(data string, path []string, mode Mode) (v Value, found bool, err error) {
	keys := [1]Key{{Path: path}}
	f := Fields{keys: keys[:], all: 1, pathKeys: 1}
	if len(path) > 0 {
		f.rootLens = lenBit(len(path[0]))
	}
	err = f.Scan(data, mode, func(k uint64, x Value) uint64 {
		v, found = x, true
		return k
	})
	return v, found, err
}

// scanner is the state of one Scan. The Fields and the FoundFunc are
// passed along as parameters rather than kept here, so that escape
// analysis sees they do not outlive the scan (the values handed to found
// point into s, which makes everything s sits with leak).
type scanner struct {
	s       string
	i       int
	lenient bool
	// all and pathKeys are the Fields' key sets; done the keys that took
	// a value, or whose path ended.
	all, pathKeys, done uint64
}

func (sc *scanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *scanner) ws() {
	s, i := sc.s, sc.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	sc.i = i
}

func (sc *scanner) allDone() bool { return sc.all != 0 && sc.done == sc.all }

// object reads the object at sc.i, at nesting level depth, whose field
// names are matched from cursor c.
func (sc *scanner) object(f *Fields, found FoundFunc, c Cursor, depth int) error {
	sc.i++
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	if depth >= MaxDepth {
		return ErrTooDeep
	}
	for {
		if sc.peek() != '"' {
			return ErrSyntax
		}
		raw, escaped, _, err := sc.str(false) // checked when decoded
		if err != nil {
			return err
		}
		var next Cursor
		var hit uint64
		switch {
		case c.alive&^sc.done == 0:
		case escaped:
			if next, hit, err = sc.escapedKey(f, c, raw); err != nil {
				return err
			}
		case c.Wants(raw):
			next, hit = f.Step(c, raw)
		}
		if !sc.colon() {
			return ErrSyntax
		}
		if sc.ws(); sc.i >= len(sc.s) {
			return ErrSyntax
		}
		if hit&^sc.done == 0 {
			hit = 0
		}
		var v Value
		switch start := sc.i; {
		case next.alive&^sc.done != 0 && sc.s[sc.i] == '{':
			// Done keys stay in next: a field below may name one of them
			// and a key still open alike (FoundFunc sees both).
			if err = sc.object(f, found, next, depth+1); err != nil {
				return err
			}
			sc.done |= next.alive & sc.pathKeys // the first object on the path decides
			v = Value{Raw: sc.s[start:sc.i], Kind: Object}
		case sc.lenient && hit == 0:
			err = sc.lenientSkip()
		case sc.lenient:
			v, err = sc.lenientValue()
		case hit == 0:
			err = sc.skip(depth)
		default:
			v, err = sc.value(depth)
		}
		if err != nil {
			return err
		}
		if hit != 0 && sc.lenient {
			sc.done |= found(hit, v) & hit
		}
		if sc.allDone() {
			return errStop
		}
		sc.ws()
		d := sc.peek()
		if d != ',' && d != '}' {
			return ErrSyntax // e.g. 01, or a missing comma
		}
		if hit != 0 && !sc.lenient {
			if sc.done |= found(hit, v) & hit; sc.allDone() {
				return errStop
			}
		}
		sc.i++
		if d == '}' {
			return nil
		}
		sc.ws()
	}
}

// escapedKey steps the cursor with a field name that holds escapes,
// decoded (on the stack) first; Lenient compares one with a broken escape
// as written, Strict refuses it.
func (sc *scanner) escapedKey(f *Fields, c Cursor, raw string) (Cursor, uint64, error) {
	var kb [64]byte
	b, err := appendDecoded(kb[:0], raw)
	if err != nil {
		if sc.lenient {
			next, hit := f.Step(c, raw)
			return next, hit, nil
		}
		return Cursor{}, 0, err
	}
	next, hit := f.Step(c, string(b))
	return next, hit, nil
}

// str reads the string at sc.i and returns its text between the quotes,
// undecoded, whether it holds escapes, and whether it holds bytes beyond
// ASCII (Lenient does not look: always true). Strict checks its escapes
// when checkEscapes is set.
func (sc *scanner) str(checkEscapes bool) (raw string, escaped, nonASCII bool, err error) {
	s := sc.s
	start := sc.i + 1
	i := start
	if sc.lenient {
		// Byte by byte for short strings (names, ids, traceparents), then
		// by strings.IndexByte, which is faster on long ones (messages).
		for end := min(i+64, len(s)); i < end; i++ {
			switch s[i] {
			case '\\':
				escaped = true
				i++
			case '"':
				sc.i = i + 1
				return s[start:i], escaped, true, nil
			}
		}
		for i < len(s) {
			j := strings.IndexByte(s[i:], '"')
			if j < 0 {
				break
			}
			k := strings.IndexByte(s[i:i+j], '\\')
			if k < 0 {
				sc.i = i + j + 1
				return s[start : i+j], escaped, true, nil
			}
			escaped = true
			i += k + 2
		}
		sc.i = len(s)
		return "", false, false, ErrSyntax
	}
	stop := &strictStop
	for {
		for i < len(s) && !stop[s[i]] {
			i++
		}
		if i >= len(s) {
			sc.i = len(s)
			return "", false, false, ErrSyntax
		}
		switch c := s[i]; {
		case c == '"':
			sc.i = i + 1
			return s[start:i], escaped, nonASCII, nil
		case c == '\\':
			if checkEscapes && !validEscape(s, i) {
				sc.i = i
				return "", false, false, ErrSyntax
			}
			i += 2
			escaped = true
		case c < 0x20:
			sc.i = i
			return "", false, false, ErrSyntax
		default: // beyond ASCII: noted once, then passed over
			nonASCII, stop = true, &strictStopUTF8
			i++
		}
	}
}

// strictStop marks the bytes that end a plain run in a Strict string:
// '"', '\\', control characters and bytes beyond ASCII; strictStopUTF8
// the same without the bytes beyond ASCII. Read-only tables.
var strictStop, strictStopUTF8 = func() (all, utf8 [256]bool) {
	for c := 0; c < 256; c++ {
		all[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
		utf8[c] = c == '"' || c == '\\' || c < 0x20
	}
	return all, utf8
}()

// value reads one value (Strict) at nesting level depth of the object
// holding it.
func (sc *scanner) value(depth int) (Value, error) {
	start := sc.i
	switch c := sc.peek(); c {
	case '"':
		raw, esc, nonASCII, err := sc.str(true)
		return Value{Raw: raw, Kind: String, escaped: esc, nonASCII: nonASCII}, err
	case '{', '[':
		err := sc.container(depth)
		k := Object
		if c == '[' {
			k = Array
		}
		return Value{Raw: sc.s[start:sc.i], Kind: k}, err
	}
	k, err := sc.scalar()
	return Value{Raw: sc.s[start:sc.i], Kind: k}, err
}

// skip passes over one value (Strict) at nesting level depth of the
// object holding it.
func (sc *scanner) skip(depth int) error {
	switch sc.peek() {
	case '"':
		_, _, _, err := sc.str(true)
		return err
	case '{', '[':
		return sc.container(depth)
	}
	_, err := sc.scalar()
	return err
}

// scalar reads a string, number, true, false or null (Strict).
func (sc *scanner) scalar() (Kind, error) {
	switch c := sc.peek(); {
	case c == '"':
		_, _, _, err := sc.str(true)
		return String, err
	case c == 't':
		return True, sc.literal("true")
	case c == 'f':
		return False, sc.literal("false")
	case c == 'n':
		return Null, sc.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := numberEnd(sc.s, sc.i)
		if !ok {
			return Number, ErrSyntax
		}
		sc.i = end
		return Number, nil
	}
	return 0, ErrSyntax
}

func (sc *scanner) literal(lit string) error {
	if !strings.HasPrefix(sc.s[sc.i:], lit) {
		return ErrSyntax
	}
	sc.i += len(lit)
	return nil
}

// container passes over the object or array at sc.i (Strict), checking
// it, without recursion: objs keeps, bit l, whether the container l+1
// levels into it is an object.
func (sc *scanner) container(depth int) error {
	var objs uint64
	n := 0 // containers open
	for {
		// sc.i is at a value of the innermost open container (n == 0: the
		// container itself).
		if c := sc.peek(); c == '{' || c == '[' {
			objs &^= 1 << uint(n)
			if c == '{' {
				objs |= 1 << uint(n)
			}
			n++
			sc.i++
			sc.ws()
			if sc.peek() != closer(objs, n) {
				if depth+n >= MaxDepth {
					return ErrTooDeep
				}
				if err := sc.member(objs, n); err != nil {
					return err
				}
				continue
			}
			sc.i++
			n--
		} else if _, err := sc.scalar(); err != nil {
			return err
		}
		// After a value: close containers, or go on to the next member.
		for {
			if n == 0 {
				return nil
			}
			sc.ws()
			c := sc.peek()
			if c == closer(objs, n) {
				sc.i++
				n--
				continue
			}
			if c != ',' {
				return ErrSyntax
			}
			sc.i++
			sc.ws()
			if err := sc.member(objs, n); err != nil {
				return err
			}
			break
		}
	}
}

// member reads the name and ':' of a member when the innermost of n open
// containers is an object, and leaves sc.i at its value.
func (sc *scanner) member(objs uint64, n int) error {
	if objs&(1<<uint(n-1)) == 0 {
		return nil
	}
	if sc.peek() != '"' {
		return ErrSyntax
	}
	if _, _, _, err := sc.str(false); err != nil {
		return err
	}
	if !sc.colon() {
		return ErrSyntax
	}
	sc.ws()
	return nil
}

// colon reads the ':' after a member's name and the white space before
// it.
func (sc *scanner) colon() bool {
	sc.ws()
	if sc.i < len(sc.s) && sc.s[sc.i] == ':' {
		sc.i++
		return true
	}
	return false
}

func closer(objs uint64, n int) byte {
	if objs&(1<<uint(n-1)) != 0 {
		return '}'
	}
	return ']'
}

// validEscape reports whether the backslash at s[i] starts a JSON escape.
func validEscape(s string, i int) bool {
	if i+1 >= len(s) {
		return false
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		_, _, ok := hex4(s, i+2)
		return ok
	}
	return false
}

// numberEnd returns the end of the JSON number (RFC 8259 grammar) at s[i].
func numberEnd(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return j, false
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
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// lenientValue reads one value (Lenient): a string, or anything else up
// to the end of its brackets or the next ',', white space, '}' or ']' at
// its level.
func (sc *scanner) lenientValue() (Value, error) {
	if sc.peek() == '"' {
		raw, esc, nonASCII, err := sc.str(true)
		return Value{Raw: raw, Kind: String, escaped: esc, nonASCII: nonASCII}, err
	}
	start := sc.i
	if err := sc.lenientSkip(); err != nil {
		return Value{}, err
	}
	raw := sc.s[start:sc.i]
	return Value{Raw: raw, Kind: bareKind(raw)}, nil
}

// lenientSkip passes over a value by its quotes and brackets.
func (sc *scanner) lenientSkip() error {
	if sc.peek() == '"' {
		_, _, _, err := sc.str(false)
		return err
	}
	s, i := sc.s, sc.i
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"':
			sc.i = i
			if _, _, _, err := sc.str(false); err != nil {
				return err
			}
			if i = sc.i; depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				sc.i = i
				return nil
			}
			if depth--; depth == 0 {
				sc.i = i + 1
				return nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				sc.i = i
				return nil
			}
		}
		i++
	}
	sc.i = i
	if depth != 0 {
		return ErrSyntax
	}
	return nil
}

// bareKind classifies a value Lenient read as written.
func bareKind(raw string) Kind {
	switch {
	case raw == "":
		return Bare
	case raw[0] == '{':
		return Object
	case raw[0] == '[':
		return Array
	case raw == "true":
		return True
	case raw == "false":
		return False
	case raw == "null":
		return Null
	}
	if end, ok := numberEnd(raw, 0); ok && end == len(raw) {
		return Number
	}
	return Bare
}
