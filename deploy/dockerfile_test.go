package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile parses the Dockerfile with buildkit's own parser (no Docker
// engine runs here to build it) and checks the build stage compiles obsd
// with the README's build command, the runtime stage is non-root and
// distroless, and the agent's ports are exposed.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	var froms, runs, users, exposes []string
	for _, n := range res.AST.Children {
		args := []string{}
		for a := n.Next; a != nil; a = a.Next {
			args = append(args, a.Value)
		}
		line := strings.Join(args, " ")
		switch strings.ToLower(n.Value) {
		case "from":
			froms = append(froms, line)
		case "run":
			runs = append(runs, line)
		case "user":
			users = append(users, line)
		case "expose":
			exposes = append(exposes, args...)
		}
	}
	if len(froms) != 2 || !strings.Contains(froms[1], "distroless/static") {
		t.Errorf("want a build stage and a distroless static runtime stage, got FROM %v", froms)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The README's build command, "go build -o obsd ./cmd/obsd", is what the
	// image runs too (with flags for a static, reproducible binary).
	if !regexp.MustCompile("go build -o obsd ./cmd/obsd").Match(readme) {
		t.Fatal("README.md no longer shows `go build -o obsd ./cmd/obsd`")
	}
	if !slices.ContainsFunc(runs, func(r string) bool {
		return strings.Contains(r, "CGO_ENABLED=0 go build") && strings.HasSuffix(r, "./cmd/obsd")
	}) {
		t.Errorf("no static `go build ... ./cmd/obsd` in the build stage: %v", runs)
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "0") || strings.HasPrefix(users[len(users)-1], "root") {
		t.Errorf("the image must end as a non-root USER, got %v", users)
	}
	for _, p := range []string{"4317", "4318", "13133", "8888"} {
		if !slices.Contains(exposes, p) {
			t.Errorf("port %s not EXPOSEd: %v", p, exposes)
		}
	}
}
