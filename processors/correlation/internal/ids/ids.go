// Package ids parses and validates trace-context identifiers found in logs:
// plain hex trace and span ids (64-bit trace ids padded to 128 bits), W3C
// traceparent, B3 single and multi header, Jaeger uber-trace-id and Datadog
// decimal ids. It has no collector imports, never panics, and does not
// allocate on any path.
package ids

// Reason says why an identifier was rejected. ReasonNone means valid.
type Reason uint8

// The invalid reasons; their String values are the metric label values.
const (
	ReasonNone Reason = iota
	ReasonAllZero
	ReasonBadLength
	ReasonNonHex
	ReasonBadVersion
	ReasonPartial64Bit
	reasonCount
)

// NumReasons is the number of Reason values, ReasonNone included.
const NumReasons = int(reasonCount)

var reasonNames = [...]string{"none", "all_zero", "bad_length", "non_hex", "bad_version", "partial_64bit"}

// String returns the label value of r (all_zero, bad_length, ...).
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// TraceID is a 128-bit trace id, big-endian, as in OTLP.
type TraceID [16]byte

// SpanID is a 64-bit span id, big-endian, as in OTLP.
type SpanID [8]byte

// IDs is what a parser extracted. Trace is always set when the parser
// returns ReasonNone; Span and Flags only when HasSpan / HasFlags are true.
type IDs struct {
	Trace    TraceID
	Span     SpanID
	HasSpan  bool
	Flags    uint8
	HasFlags bool
	// Upper is true when any hex digit was uppercase (accepted, counted).
	Upper bool
	// Padded is true when a 64-bit trace id was left-padded to 128 bits.
	Padded bool
}

// hexVal returns the value of the hex digit c, whether it was uppercase,
// and false when c is not a hex digit.
func hexVal(c byte) (v byte, upper, ok bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', false, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, false, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true, true
	}
	return 0, false, false
}

// decodeHexRight decodes the hex string s into the rightmost bytes of dst
// (left-padding with zeros). s may have odd length; len(s) must be at most
// 2*len(dst). It reports uppercase digits and non-hex input.
func decodeHexRight(dst []byte, s string) (upper bool, r Reason) {
	for i := range dst {
		dst[i] = 0
	}
	j := len(dst) - 1
	for i := len(s) - 1; i >= 0; i -= 2 {
		lo, up1, ok := hexVal(s[i])
		if !ok {
			return false, ReasonNonHex
		}
		var hi byte
		if i > 0 {
			h, up2, ok2 := hexVal(s[i-1])
			if !ok2 {
				return false, ReasonNonHex
			}
			hi, up1 = h, up1 || up2
		}
		upper = upper || up1
		dst[j] = hi<<4 | lo
		j--
	}
	return upper, ReasonNone
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ParseTraceIDHex parses a 32-hex trace id, or a 16-hex (64-bit) one that
// it left-pads with zeros, the way B3 and Jaeger clients do.
func ParseTraceIDHex(s string) (id TraceID, upper, padded bool, r Reason) {
	switch len(s) {
	case 32:
	case 16:
		padded = true
	default:
		return id, false, false, ReasonBadLength
	}
	upper, r = decodeHexRight(id[:], s)
	if r != ReasonNone {
		return TraceID{}, false, false, r
	}
	if r = checkTrace(id); r != ReasonNone {
		return TraceID{}, false, false, r
	}
	return id, upper, padded, ReasonNone
}

// checkTrace rejects all-zero ids and 128-bit ids whose low 64 bits are
// zero: only the high half of a 128-bit id survived (partial_64bit).
func checkTrace(id TraceID) Reason {
	if isZero(id[:]) {
		return ReasonAllZero
	}
	if isZero(id[8:]) {
		return ReasonPartial64Bit
	}
	return ReasonNone
}

// ParseSpanIDHex parses a 16-hex span id.
func ParseSpanIDHex(s string) (id SpanID, upper bool, r Reason) {
	if len(s) != 16 {
		return id, false, ReasonBadLength
	}
	upper, r = decodeHexRight(id[:], s)
	if r != ReasonNone {
		return SpanID{}, false, r
	}
	if isZero(id[:]) {
		return SpanID{}, false, ReasonAllZero
	}
	return id, upper, ReasonNone
}

// ParseHexPair parses a plain hex trace id and, when span is not empty, a
// hex span id (the trace_id/span_id, X-B3-TraceId/X-B3-SpanId style).
// An invalid span id makes the pair invalid.
func ParseHexPair(trace, span string) (out IDs, r Reason) {
	out.Trace, out.Upper, out.Padded, r = ParseTraceIDHex(trace)
	if r != ReasonNone {
		return IDs{}, r
	}
	if span == "" {
		return out, ReasonNone
	}
	sp, up, r := ParseSpanIDHex(span)
	if r != ReasonNone {
		return IDs{}, r
	}
	out.Span, out.HasSpan, out.Upper = sp, true, out.Upper || up
	return out, ReasonNone
}
