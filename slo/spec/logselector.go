package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// maxLogSelector bounds the length of a log selector.
const maxLogSelector = 4096

// ParseLogSelector parses a log selector: `{name op "value", ...}` with
// op one of =, !=, =~, !~ (regular expressions fully anchored, RE2, as in
// Prometheus). A name is [A-Za-z_][A-Za-z0-9_.:/-]* or a double-quoted
// string; values are quoted with ", ' or ` (Go escapes in the first two).
// "{}" and "" select every record. Names are read by ParseLogField.
func ParseLogSelector(text string) (LogSelector, error) {
	sel := LogSelector{Text: text}
	if len(text) > maxLogSelector {
		return sel, fmt.Errorf("longer than %d bytes", maxLogSelector)
	}
	p := selParser{s: text}
	p.ws()
	if p.eof() {
		return sel, nil
	}
	if !p.take('{') {
		return sel, p.errf("want '{'")
	}
	for {
		p.ws()
		if p.take('}') {
			break
		}
		m, err := p.matcher()
		if err != nil {
			return sel, err
		}
		sel.Matchers = append(sel.Matchers, m)
		p.ws()
		if p.take(',') {
			continue
		}
		if p.take('}') {
			break
		}
		return sel, p.errf("want ',' or '}'")
	}
	p.ws()
	if !p.eof() {
		return sel, p.errf("unexpected text after '}'")
	}
	return sel, nil
}

type selParser struct {
	s string
	i int
}

func (p *selParser) eof() bool { return p.i >= len(p.s) }

func (p *selParser) errf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *selParser) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *selParser) take(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func nameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }

func nameChar(c byte) bool {
	return nameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '/' || c == '-'
}

func (p *selParser) matcher() (LogMatcher, error) {
	name, err := p.name()
	if err != nil {
		return LogMatcher{}, err
	}
	f, err := ParseLogField(name)
	if err != nil {
		return LogMatcher{}, p.errf("%v", err)
	}
	p.ws()
	var typ labels.MatchType
	switch {
	case strings.HasPrefix(p.s[p.i:], "=~"):
		typ, p.i = labels.MatchRegexp, p.i+2
	case strings.HasPrefix(p.s[p.i:], "!~"):
		typ, p.i = labels.MatchNotRegexp, p.i+2
	case strings.HasPrefix(p.s[p.i:], "!="):
		typ, p.i = labels.MatchNotEqual, p.i+2
	case strings.HasPrefix(p.s[p.i:], "="):
		typ, p.i = labels.MatchEqual, p.i+1
	default:
		return LogMatcher{}, p.errf("want one of =, !=, =~, !~ after %q", name)
	}
	p.ws()
	val, err := p.quoted()
	if err != nil {
		return LogMatcher{}, err
	}
	m, err := labels.NewMatcher(typ, name, val)
	if err != nil {
		return LogMatcher{}, fmt.Errorf("matcher on %q: %w", name, err)
	}
	return LogMatcher{Field: f, Matcher: m}, nil
}

func (p *selParser) name() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.quoted()
	}
	start := p.i
	if p.eof() || !nameStart(p.s[p.i]) {
		return "", p.errf("want a field name")
	}
	for p.i < len(p.s) && nameChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], nil
}

// quoted reads a "...", '...' or `...` string.
func (p *selParser) quoted() (string, error) {
	if p.eof() {
		return "", p.errf("want a quoted string")
	}
	q := p.s[p.i]
	if q != '"' && q != '\'' && q != '`' {
		return "", p.errf("want a quoted string")
	}
	start := p.i
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && q != '`':
			p.i += 2
			continue
		case c == q:
			p.i++
			raw := p.s[start:p.i]
			if q == '`' {
				return raw[1 : len(raw)-1], nil
			}
			if q == '\'' { // Go reads '...' as a rune: requote it
				raw = singleToDouble(raw[1 : len(raw)-1])
			}
			v, err := strconv.Unquote(raw)
			if err != nil {
				return "", fmt.Errorf("at offset %d: invalid string %s: %w", start, raw, err)
			}
			return v, nil
		}
		p.i++
	}
	return "", fmt.Errorf("at offset %d: unterminated string", start)
}

// singleToDouble turns the body of a '...' string into a Go "..."
// literal: \' becomes ', a bare " is escaped, other escapes are kept.
func singleToDouble(body string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' && i+1 < len(body):
			if body[i+1] == '\'' {
				b.WriteByte('\'')
			} else {
				b.WriteByte(c)
				b.WriteByte(body[i+1])
			}
			i++
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
