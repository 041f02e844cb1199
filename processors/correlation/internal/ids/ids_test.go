package ids

import (
	"encoding/hex"
	"testing"
)

func tid(s string) TraceID {
	var t TraceID
	b, _ := hex.DecodeString(s)
	copy(t[16-len(b):], b)
	return t
}

func sid(s string) SpanID {
	var t SpanID
	b, _ := hex.DecodeString(s)
	copy(t[8-len(b):], b)
	return t
}

type want struct {
	trace   string
	span    string
	flags   int // -1: no flags
	upper   bool
	padded  bool
	reason  Reason
	hasSpan bool
}

func check(t *testing.T, got IDs, r Reason, w want) {
	t.Helper()
	if r != w.reason {
		t.Fatalf("reason = %v, want %v", r, w.reason)
	}
	if r != ReasonNone {
		if got != (IDs{}) {
			t.Fatalf("invalid input returned ids %+v", got)
		}
		return
	}
	if got.Trace != tid(w.trace) {
		t.Errorf("trace = %x, want %s", got.Trace, w.trace)
	}
	if got.HasSpan != w.hasSpan || (w.hasSpan && got.Span != sid(w.span)) {
		t.Errorf("span = %x (has %v), want %s (has %v)", got.Span, got.HasSpan, w.span, w.hasSpan)
	}
	if w.flags >= 0 && (!got.HasFlags || int(got.Flags) != w.flags) {
		t.Errorf("flags = %d (has %v), want %d", got.Flags, got.HasFlags, w.flags)
	}
	if w.flags < 0 && got.HasFlags {
		t.Errorf("flags set to %d, want none", got.Flags)
	}
	if got.Upper != w.upper || got.Padded != w.padded {
		t.Errorf("upper,padded = %v,%v want %v,%v", got.Upper, got.Padded, w.upper, w.padded)
	}
}

const (
	w3cTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	w3cSpan  = "00f067aa0ba902b7"
)

func TestParseTraceparent(t *testing.T) {
	ok := want{trace: w3cTrace, span: w3cSpan, flags: 1, hasSpan: true}
	tests := map[string]struct {
		in string
		w  want
	}{
		"the W3C example header is valid":                    {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ok},
		"an unsampled header keeps flags 00":                 {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", want{trace: w3cTrace, span: w3cSpan, flags: 0, hasSpan: true}},
		"uppercase hex is accepted and flagged":              {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", want{trace: w3cTrace, span: w3cSpan, flags: 1, hasSpan: true, upper: true}},
		"version ff is invalid":                              {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", want{reason: ReasonBadVersion}},
		"an all-zero trace id is invalid":                    {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", want{reason: ReasonAllZero}},
		"an all-zero parent id is invalid":                   {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", want{reason: ReasonAllZero}},
		"version 00 with trailing data is invalid":           {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", want{reason: ReasonBadLength}},
		"a future version with extra fields parses four":     {"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like", ok},
		"a future version of exactly 55 characters parses":   {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ok},
		"a future version glued to more data is invalid":     {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", want{reason: ReasonBadLength}},
		"a truncated header is invalid":                      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", want{reason: ReasonBadLength}},
		"a non-hex trace id is invalid":                      {"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", want{reason: ReasonNonHex}},
		"a non-hex version is invalid":                       {"0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", want{reason: ReasonNonHex}},
		"a non-hex flags field is invalid":                   {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z", want{reason: ReasonNonHex}},
		"wrong separators are invalid":                       {"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", want{reason: ReasonBadLength}},
		"a 64-bit trace id in traceparent is a wrong length": {"00-a3ce929d0e0e4736-00f067aa0ba902b7-01-0000000000000000", want{reason: ReasonBadLength}},
		"garbage is invalid":                                 {"hello world", want{reason: ReasonBadLength}},
		"empty is invalid":                                   {"", want{reason: ReasonBadLength}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, r := ParseTraceparent(tt.in)
			check(t, got, r, tt.w)
		})
	}
}

func TestParseHexPair(t *testing.T) {
	tests := map[string]struct {
		trace, span string
		w           want
	}{
		"a 32-hex trace id and 16-hex span id are valid": {w3cTrace, w3cSpan, want{trace: w3cTrace, span: w3cSpan, flags: -1, hasSpan: true}},
		"a trace id without a span id is valid":          {w3cTrace, "", want{trace: w3cTrace, flags: -1}},
		"a 16-hex trace id is left-padded to 32":         {"a3ce929d0e0e4736", w3cSpan, want{trace: "0000000000000000a3ce929d0e0e4736", span: w3cSpan, flags: -1, hasSpan: true, padded: true}},
		"uppercase is accepted and flagged":              {"4BF92F3577B34DA6A3CE929D0E0E4736", "00F067AA0BA902B7", want{trace: w3cTrace, span: w3cSpan, flags: -1, hasSpan: true, upper: true}},
		"an all-zero trace id is invalid":                {"00000000000000000000000000000000", w3cSpan, want{reason: ReasonAllZero}},
		"an all-zero 64-bit trace id is invalid":         {"0000000000000000", "", want{reason: ReasonAllZero}},
		"an all-zero span id is invalid":                 {w3cTrace, "0000000000000000", want{reason: ReasonAllZero}},
		"a 128-bit id with a zero low half is partial":   {"4bf92f3577b34da60000000000000000", "", want{reason: ReasonPartial64Bit}},
		"a 31-hex trace id is a wrong length":            {w3cTrace[1:], "", want{reason: ReasonBadLength}},
		"a 20-hex trace id is a wrong length":            {w3cTrace[:20], "", want{reason: ReasonBadLength}},
		"a 15-hex span id is a wrong length":             {w3cTrace, w3cSpan[1:], want{reason: ReasonBadLength}},
		"a non-hex trace id is invalid":                  {"zzf92f3577b34da6a3ce929d0e0e4736", "", want{reason: ReasonNonHex}},
		"a non-hex span id is invalid":                   {w3cTrace, "00f067aa0ba902bx", want{reason: ReasonNonHex}},
		"an empty trace id is a wrong length":            {"", "", want{reason: ReasonBadLength}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, r := ParseHexPair(tt.trace, tt.span)
			check(t, got, r, tt.w)
		})
	}
}

func TestParseB3Single(t *testing.T) {
	tests := map[string]struct {
		in string
		w  want
	}{
		"trace and span ids are valid":         {w3cTrace + "-" + w3cSpan, want{trace: w3cTrace, span: w3cSpan, flags: -1, hasSpan: true}},
		"a sampled header sets the flag":       {w3cTrace + "-" + w3cSpan + "-1", want{trace: w3cTrace, span: w3cSpan, flags: 1, hasSpan: true}},
		"debug sampling sets the flag":         {w3cTrace + "-" + w3cSpan + "-d", want{trace: w3cTrace, span: w3cSpan, flags: 1, hasSpan: true}},
		"a parent span id is accepted":         {w3cTrace + "-" + w3cSpan + "-0-05e3ac9a4f6e3b90", want{trace: w3cTrace, span: w3cSpan, flags: 0, hasSpan: true}},
		"a 64-bit trace id is padded":          {"a3ce929d0e0e4736-" + w3cSpan + "-1", want{trace: "0000000000000000a3ce929d0e0e4736", span: w3cSpan, flags: 1, hasSpan: true, padded: true}},
		"a bare sampling decision has no ids":  {"1", want{reason: ReasonBadLength}},
		"a missing span id is a wrong length":  {w3cTrace + "-", want{reason: ReasonBadLength}},
		"an unknown sampling state is invalid": {w3cTrace + "-" + w3cSpan + "-x", want{reason: ReasonBadVersion}},
		"a bad parent span id is invalid":      {w3cTrace + "-" + w3cSpan + "-1-zz", want{reason: ReasonBadLength}},
		"an all-zero trace id is invalid":      {"0000000000000000-" + w3cSpan, want{reason: ReasonAllZero}},
		"a non-hex trace id is invalid":        {"a3ce929d0e0e473q-" + w3cSpan, want{reason: ReasonNonHex}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, r := ParseB3Single(tt.in)
			check(t, got, r, tt.w)
		})
	}
}

func TestParseUberTraceID(t *testing.T) {
	tests := map[string]struct {
		in string
		w  want
	}{
		"a 128-bit jaeger header is valid":          {w3cTrace + ":" + w3cSpan + ":0:1", want{trace: w3cTrace, span: w3cSpan, flags: 1, hasSpan: true}},
		"a 64-bit trace id is padded":               {"a3ce929d0e0e4736:" + w3cSpan + ":0:1", want{trace: "0000000000000000a3ce929d0e0e4736", span: w3cSpan, flags: 1, hasSpan: true, padded: true}},
		"leading zeros may be omitted":              {"abc:de:0:0", want{trace: "00000000000000000000000000000abc", span: "00000000000000de", flags: 0, hasSpan: true, padded: true}},
		"url-encoded colons are accepted":           {"abc%3Ade%3A0%3A1", want{trace: "00000000000000000000000000000abc", span: "00000000000000de", flags: 1, hasSpan: true, padded: true}},
		"the debug flag keeps only the sampled bit": {"abc:de:0:3", want{trace: "00000000000000000000000000000abc", span: "00000000000000de", flags: 1, hasSpan: true, padded: true}},
		"uppercase is accepted and flagged":         {"ABC:DE:0:1", want{trace: "00000000000000000000000000000abc", span: "00000000000000de", flags: 1, hasSpan: true, padded: true, upper: true}},
		"three fields are a wrong length":           {"abc:de:0", want{reason: ReasonBadLength}},
		"five fields are a wrong length":            {"abc:de:0:1:2", want{reason: ReasonBadLength}},
		"a 33-hex trace id is a wrong length":       {"0" + w3cTrace + ":de:0:1", want{reason: ReasonBadLength}},
		"a zero trace id is invalid":                {"0:de:0:1", want{reason: ReasonAllZero}},
		"a zero span id is invalid":                 {"abc:0:0:1", want{reason: ReasonAllZero}},
		"a non-hex trace id is invalid":             {"xyz:de:0:1", want{reason: ReasonNonHex}},
		"an empty span id is a wrong length":        {"abc::0:1", want{reason: ReasonBadLength}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, r := ParseUberTraceID(tt.in)
			check(t, got, r, tt.w)
		})
	}
}

func TestParseDatadog(t *testing.T) {
	tests := map[string]struct {
		trace, span string
		w           want
	}{
		"decimal ids are converted and padded":    {"1234567890123456789", "987654321", want{trace: "0000000000000000112210f47de98115", span: "000000003ade68b1", flags: -1, hasSpan: true, padded: true}},
		"the largest 64-bit value is valid":       {"18446744073709551615", "", want{trace: "0000000000000000ffffffffffffffff", flags: -1, padded: true}},
		"a value beyond 64 bits is too long":      {"18446744073709551616", "", want{reason: ReasonBadLength}},
		"21 digits are too long":                  {"100000000000000000000", "", want{reason: ReasonBadLength}},
		"zero is invalid":                         {"0", "", want{reason: ReasonAllZero}},
		"hex digits are invalid":                  {"12ab", "", want{reason: ReasonNonHex}},
		"a negative number is invalid":            {"-12", "", want{reason: ReasonNonHex}},
		"an invalid span id invalidates the pair": {"12", "x", want{reason: ReasonNonHex}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, r := ParseDatadog(tt.trace, tt.span)
			check(t, got, r, tt.w)
		})
	}
}

func TestReasonStrings(t *testing.T) {
	want := []string{"none", "all_zero", "bad_length", "non_hex", "bad_version", "partial_64bit"}
	for i, w := range want {
		if got := Reason(i).String(); got != w {
			t.Errorf("Reason(%d) = %q, want %q", i, got, w)
		}
	}
	if Reason(200).String() != "unknown" {
		t.Error("out of range reason must be unknown")
	}
}
