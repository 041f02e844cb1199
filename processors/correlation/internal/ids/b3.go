package ids

// ParseB3Single parses the B3 single header
// {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]. A bare sampling
// decision ("0", "1", "d") carries no ids and is reported as bad_length.
// 64-bit trace ids are left-padded to 128 bits.
func ParseB3Single(s string) (out IDs, r Reason) {
	trace, rest, ok := cut(s, '-')
	if !ok {
		return IDs{}, ReasonBadLength
	}
	span, rest, more := cut(rest, '-')
	out, r = ParseHexPair(trace, span)
	if r != ReasonNone {
		return IDs{}, r
	}
	if span == "" {
		return IDs{}, ReasonBadLength
	}
	if !more {
		return out, ReasonNone
	}
	sampling, parent, hasParent := cut(rest, '-')
	switch sampling {
	case "1", "d":
		out.Flags, out.HasFlags = 1, true
	case "0":
		out.Flags, out.HasFlags = 0, true
	default:
		return IDs{}, ReasonBadVersion
	}
	if hasParent {
		if _, _, pr := ParseSpanIDHex(parent); pr != ReasonNone {
			return IDs{}, pr
		}
	}
	return out, ReasonNone
}

// ParseUberTraceID parses Jaeger's uber-trace-id
// {trace-id}:{span-id}:{parent-span-id}:{flags}. Jaeger omits leading
// zeros, so trace ids of 1..32 and span ids of 1..16 hex digits are
// left-padded; "%3A" is accepted for ':' as Jaeger clients do.
func ParseUberTraceID(s string) (out IDs, r Reason) {
	var parts [4]string
	n := 0
	for n < 4 {
		i := indexSep(s)
		if i < 0 {
			parts[n] = s
			n++
			s = ""
			break
		}
		parts[n] = s[:i]
		n++
		if s[i] == '%' {
			s = s[i+3:]
		} else {
			s = s[i+1:]
		}
	}
	if n != 4 || s != "" {
		return IDs{}, ReasonBadLength
	}
	t, sp := parts[0], parts[1]
	if len(t) == 0 || len(t) > 32 || len(sp) == 0 || len(sp) > 16 || len(parts[3]) == 0 || len(parts[3]) > 2 {
		return IDs{}, ReasonBadLength
	}
	up1, r := decodeHexRight(out.Trace[:], t)
	if r != ReasonNone {
		return IDs{}, r
	}
	if r = checkTrace(out.Trace); r != ReasonNone {
		return IDs{}, r
	}
	up2, r := decodeHexRight(out.Span[:], sp)
	if r != ReasonNone {
		return IDs{}, r
	}
	if isZero(out.Span[:]) {
		return IDs{}, ReasonAllZero
	}
	var fl [1]byte
	if _, r = decodeHexRight(fl[:], parts[3]); r != ReasonNone {
		return IDs{}, r
	}
	if len(parts[2]) > 16 {
		return IDs{}, ReasonBadLength
	}
	var parent [8]byte
	if _, r = decodeHexRight(parent[:], parts[2]); r != ReasonNone {
		return IDs{}, r
	}
	out.HasSpan, out.Flags, out.HasFlags = true, fl[0]&1, true
	out.Upper, out.Padded = up1 || up2, len(t) <= 16
	return out, ReasonNone
}

// indexSep finds the next ':' or "%3A"/"%3a" in s.
func indexSep(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return i
		}
		if s[i] == '%' && i+2 < len(s) && s[i+1] == '3' && (s[i+2] == 'A' || s[i+2] == 'a') {
			return i
		}
	}
	return -1
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
