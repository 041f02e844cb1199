package ids

// ParseTraceparent parses a W3C traceparent header value
// (version-traceid-parentid-flags). Version ff is invalid; version 00 must
// be exactly 55 characters; higher versions parse the first four fields and
// require a '-' after them when more follows.
func ParseTraceparent(s string) (out IDs, r Reason) {
	if len(s) < 55 {
		return IDs{}, ReasonBadLength
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return IDs{}, ReasonBadLength
	}
	var ver [1]byte
	upVer, r := decodeHexRight(ver[:], s[:2])
	if r != ReasonNone {
		return IDs{}, r
	}
	switch {
	case ver[0] == 0xff:
		return IDs{}, ReasonBadVersion
	case ver[0] == 0 && len(s) != 55:
		return IDs{}, ReasonBadLength
	case len(s) > 55 && s[55] != '-':
		return IDs{}, ReasonBadLength
	}
	upT, r := decodeHexRight(out.Trace[:], s[3:35])
	if r != ReasonNone {
		return IDs{}, r
	}
	if isZero(out.Trace[:]) {
		return IDs{}, ReasonAllZero
	}
	upS, r := decodeHexRight(out.Span[:], s[36:52])
	if r != ReasonNone {
		return IDs{}, r
	}
	if isZero(out.Span[:]) {
		return IDs{}, ReasonAllZero
	}
	var fl [1]byte
	upF, r := decodeHexRight(fl[:], s[53:55])
	if r != ReasonNone {
		return IDs{}, r
	}
	out.HasSpan, out.Flags, out.HasFlags = true, fl[0], true
	out.Upper = upVer || upT || upS || upF
	return out, ReasonNone
}
