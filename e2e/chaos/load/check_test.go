package load

import (
	"reflect"
	"testing"
)

func TestCheck(t *testing.T) {
	// Batches of 2 numbered from 10: batch 0 (10, 11) acknowledged, batch 1
	// (12, 13) refused, batch 2 (14, 15) unanswered.
	tests := []struct {
		name   string
		counts Counts
		want   Result
	}{
		{
			name:   "every acknowledged item received once loses nothing",
			counts: Counts{10: 1, 11: 1},
			want:   Result{Sent: 6, Acked: 2, Refused: 2, Received: 2, Unique: 2},
		},
		{
			name:   "an acknowledged item never received is lost",
			counts: Counts{10: 1},
			want:   Result{Sent: 6, Acked: 2, Refused: 2, Received: 1, Unique: 1, Lost: 1, FirstLost: []int64{11}},
		},
		{
			name:   "an item received twice is one duplicate",
			counts: Counts{10: 2, 11: 1},
			want:   Result{Sent: 6, Acked: 2, Refused: 2, Received: 3, Unique: 2, Dup: 1},
		},
		{
			name:   "an unanswered item that arrived is unacked, not lost",
			counts: Counts{10: 1, 11: 1, 15: 1},
			want:   Result{Sent: 6, Acked: 2, Refused: 2, Received: 3, Unique: 3, Unacked: 1},
		},
		{
			name:   "another generator's numbers are not counted",
			counts: Counts{10: 1, 11: 1, 0: 5, 99: 1},
			want:   Result{Sent: 6, Acked: 2, Refused: 2, Received: 2, Unique: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(nil, Config{BatchSize: 2, Offset: 10})
			g.state = []uint8{acked, refused, pending}
			if got := g.Check(tt.counts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %+v, want %+v", got, tt.want)
			}
		})
	}
}
