package formats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obsd-dev/obsd/internal/yamllimit"
	"github.com/obsd-dev/obsd/slo/spec"
)

// billionLaughsSLO is an obsd/v1 file whose aliases expand to ~10^9 nodes.
func billionLaughsSLO() string {
	var b strings.Builder
	b.WriteString("version: obsd/v1\n")
	b.WriteString("x0: &x0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 10; i++ {
		p := fmt.Sprintf("*x%d", i-1)
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(p+",", 9), ","))
	}
	b.WriteString("slos: []\n")
	return b.String()
}

func TestLimitsRefuseHostileFiles(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.yaml")
	if err := os.WriteFile(bomb, []byte(billionLaughsSLO()), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: obsd/v1\n#"+strings.Repeat("x", spec.MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		run     func() error
		wantIs  error
		wantMsg string
	}{
		{"Parse refuses a billion-laughs file before decoding it", func() error { _, err := Parse("bomb.yaml", []byte(billionLaughsSLO())); return err }, yamllimit.ErrAliasBomb, "bomb.yaml"},
		{"Load refuses a billion-laughs file and names it", func() error { _, err := Load(bomb); return err }, yamllimit.ErrAliasBomb, "bomb.yaml"},
		{"Load refuses a file over the size limit", func() error { _, err := Load(big); return err }, nil, "larger than"},
		{"Parse refuses content over the size limit", func() error { _, err := Parse("big.yaml", make([]byte, spec.MaxFileSize+1)); return err }, nil, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("error %v is not %v", err, tt.wantIs)
			}
		})
	}
}
