package limiter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKeySpec(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want KeySpec
		err  string
	}{
		{name: "peer keys by remote address", in: "peer", want: KeySpec{Source: SourcePeer}},
		{name: "a header names the tenant", in: "header:X-Scope-OrgID", want: KeySpec{Source: SourceHeader, Name: "X-Scope-OrgID"}},
		{name: "plain auth reads the subject attribute", in: "auth", want: KeySpec{Source: SourceAuth, Name: "subject"}},
		{name: "auth may name another attribute", in: "auth:tenant", want: KeySpec{Source: SourceAuth, Name: "tenant"}},
		{name: "an empty key is refused", in: "", err: "is not one of"},
		{name: "an unknown source is refused", in: "cookie:x", err: "is not one of"},
		{name: "a header without a name is refused", in: "header:", err: "is not one of"},
		{name: "peer takes no argument", in: "peer:x", err: "is not one of"},
		{name: "a header name with a space is refused", in: "header:X Org", err: "not a valid header name"},
		{name: "binary gRPC metadata cannot be a key", in: "header:tenant-bin", err: "not a valid header name"},
		{name: "an auth attribute with spaces around it is refused", in: "auth: subject", err: "surrounding spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKeySpec(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String(), "String round-trips")
		})
	}
}

func FuzzParseKeySpec(f *testing.F) {
	for _, s := range []string{"peer", "auth", "auth:tenant", "header:X-Scope-OrgID", "header:", ":", "header:a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeySpec(s)
		if err != nil {
			return
		}
		again, err := ParseKeySpec(k.String())
		if err != nil {
			t.Fatalf("ParseKeySpec(%q).String() = %q does not parse: %v", s, k.String(), err)
		}
		if again != k {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, k)
		}
	})
}
