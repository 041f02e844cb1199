package ids

// ParseDecimal64 parses an unsigned 64-bit decimal id as Datadog logs
// carry it (dd.trace_id, dd.span_id). Non-digits are non_hex, more than 20
// digits or overflow bad_length, zero all_zero.
func ParseDecimal64(s string) (v uint64, r Reason) {
	if len(s) == 0 || len(s) > 20 {
		return 0, ReasonBadLength
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, ReasonNonHex
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, ReasonBadLength
		}
		v = v*10 + d
	}
	if v == 0 {
		return 0, ReasonAllZero
	}
	return v, ReasonNone
}

// ParseDatadog parses Datadog's decimal dd.trace_id and (optional)
// dd.span_id. The 64-bit trace id is left-padded to 128 bits.
func ParseDatadog(trace, span string) (out IDs, r Reason) {
	t, r := ParseDecimal64(trace)
	if r != ReasonNone {
		return IDs{}, r
	}
	putUint64(out.Trace[8:], t)
	out.Padded = true
	if span == "" {
		return out, ReasonNone
	}
	sp, r := ParseDecimal64(span)
	if r != ReasonNone {
		return IDs{}, r
	}
	putUint64(out.Span[:], sp)
	out.HasSpan = true
	return out, ReasonNone
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}
