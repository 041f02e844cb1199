// Package layers holds the test that keeps obsd's folders importing
// downwards only (shared/DESIGN.md): cmd → components → alerting /
// dashboards → slo → internal.
package layers

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/obsd-dev/obsd/"

// layer is a folder's rank; a package may import only packages of a
// strictly lower rank, or of its own folder tree.
func layer(pkg string) (folder string, rank int) {
	rel := strings.TrimPrefix(pkg, module)
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case "cmd", "e2e", "bench":
		return top, 5
	case "receivers", "processors", "exporters", "extensions", "connectors":
		return top, 4
	case "alerting", "dashboards":
		return top, 3
	case "slo":
		return top, 2
	case "internal":
		return top, 1
	case "deploy":
		return top, 5
	}
	return top, 0
}

// pure are the folders of pure logic: no collector imports but pdata.
var pure = map[string]bool{"slo": true, "alerting": true, "dashboards": true}

type listed struct {
	ImportPath string
	Imports    []string
}

func TestFoldersImportDownwardsOnly(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "github.com/obsd-dev/obsd/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		folder, rank := layer(p.ImportPath)
		for _, imp := range p.Imports {
			if pure[folder] && strings.HasPrefix(imp, "go.opentelemetry.io/collector/") && !strings.HasPrefix(imp, "go.opentelemetry.io/collector/pdata") {
				t.Errorf("%s imports %s: the SLO engine, alerting and dashboards are pure logic with no collector imports (pdata aside)",
					strings.TrimPrefix(p.ImportPath, module), imp)
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			checked++
			impFolder, impRank := layer(imp)
			if impFolder == folder && !(folder == "receivers" || folder == "processors" || folder == "exporters" || folder == "extensions" || folder == "connectors") {
				continue // within one folder tree
			}
			if impFolder == folder && (sameComponent(p.ImportPath, imp) || strings.HasPrefix(imp, module+folder+"/internal/")) {
				continue // a component's own subpackages, or its folder's shared internal helpers
			}
			if impRank >= rank {
				t.Errorf("%s imports %s: folders import downwards only (cmd → components → alerting / dashboards → slo → internal)",
					strings.TrimPrefix(p.ImportPath, module), strings.TrimPrefix(imp, module))
			}
		}
	}
	if checked == 0 {
		t.Fatal("no obsd import was checked: go list printed nothing usable")
	}
}

// sameComponent reports whether two packages under a component folder
// (e.g. extensions/statuspage and extensions/statuspage/internal/web)
// belong to the same component. A folder's own internal/ (e.g.
// extensions/internal/...) is shared by that folder's components.
func sameComponent(a, b string) bool {
	ra := strings.Split(strings.TrimPrefix(a, module), "/")
	rb := strings.Split(strings.TrimPrefix(b, module), "/")
	return len(ra) >= 2 && len(rb) >= 2 && ra[0] == rb[0] && ra[1] == rb[1]
}
