package promtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstantQueries(t *testing.T) {
	s := Start(t, Options{})
	tests := map[string]struct {
		query   func(expr string) ([]Sample, error)
		expr    string
		want    []Sample
		wantErr string
	}{
		"a vector comes back with its labels and value": {
			query: s.TryQuery, expr: `label_replace(vector(2.5), "a", "b", "", "")`,
			want: []Sample{{Labels: map[string]string{"a": "b"}, Value: 2.5}},
		},
		"a query at a given time is a vector too": {
			query: func(expr string) ([]Sample, error) { return s.QueryAt(expr, time.Now()) },
			expr:  `vector(7)`, want: []Sample{{Labels: map[string]string{}, Value: 7}},
		},
		"a scalar is refused, naming its type": {
			query: s.TryQuery, expr: `scalar(vector(1))`, wantErr: "result type scalar, want vector",
		},
		"a bad expression returns Prometheus' error": {
			query: s.TryQuery, expr: `sum(`, wantErr: "parse error",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tt.query(tt.expr)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
