package limiter

import (
	"fmt"
	"strings"
)

// Source is where a client key comes from.
type Source uint8

const (
	// SourcePeer keys clients by remote IP address.
	SourcePeer Source = iota + 1
	// SourceHeader keys clients by an HTTP header / gRPC metadata value.
	SourceHeader
	// SourceAuth keys clients by an attribute of the authenticated client.
	SourceAuth
)

// DefaultAuthAttribute is the auth attribute read by the plain `auth` key.
const DefaultAuthAttribute = "subject"

// KeySpec is a parsed `key` setting.
type KeySpec struct {
	Source Source
	// Name is the header name (SourceHeader) or the auth attribute
	// (SourceAuth); empty for SourcePeer.
	Name string
}

// ParseKeySpec parses `peer`, `header:<name>`, `auth` or `auth:<attribute>`.
func ParseKeySpec(s string) (KeySpec, error) {
	kind, name, hasName := strings.Cut(s, ":")
	switch {
	case kind == "peer" && !hasName:
		return KeySpec{Source: SourcePeer}, nil
	case kind == "auth" && !hasName:
		return KeySpec{Source: SourceAuth, Name: DefaultAuthAttribute}, nil
	case kind == "auth" && name != "":
		if strings.TrimSpace(name) != name {
			return KeySpec{}, fmt.Errorf("auth attribute %q has surrounding spaces", name)
		}
		return KeySpec{Source: SourceAuth, Name: name}, nil
	case kind == "header" && name != "":
		if !validHeaderName(name) {
			return KeySpec{}, fmt.Errorf("%q is not a valid header name", name)
		}
		return KeySpec{Source: SourceHeader, Name: name}, nil
	}
	return KeySpec{}, fmt.Errorf("%q is not one of peer, header:<name>, auth, auth:<attribute>", s)
}

// String is the spec in config syntax.
func (k KeySpec) String() string {
	switch k.Source {
	case SourcePeer:
		return "peer"
	case SourceHeader:
		return "header:" + k.Name
	case SourceAuth:
		if k.Name == DefaultAuthAttribute {
			return "auth"
		}
		return "auth:" + k.Name
	}
	return ""
}

// validHeaderName accepts RFC 9110 token characters (which also covers
// gRPC metadata keys once lower-cased), and rejects binary (-bin) metadata.
func validHeaderName(s string) bool {
	if strings.HasSuffix(strings.ToLower(s), "-bin") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
