package rewrite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUncommittedExtractionDoesNotBlock commits a module, extracts one
// interface with -w without committing, and expects what that run wrote
// to block neither the extraction of a second interface (go.mod and go.sum
// differ from the commit only by the runtime's lines) nor -revert of the
// first (it gives back the committed bytes and removes untracked files
// meshsplit generated); a hand edit still blocks.
func TestUncommittedExtractionDoesNotBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a module with the runtime")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	runtimeDir, _ := offlineRuntime(t)
	dir := t.TempDir()
	const store = "package store\n\nimport \"context\"\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return id, nil }\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n"
	const clock = "package clock\n\nimport \"context\"\n\n// Clock tells the time.\ntype Clock interface {\n\tNow(ctx context.Context) (int64, error)\n}\n\ntype fixed struct{}\n\nfunc (fixed) Now(ctx context.Context) (int64, error) { return 42, nil }\n\n// New returns a Clock.\nfunc New() Clock { return fixed{} }\n"
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo 1.24\n\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "store/store.go"): store,
		filepath.Join(dir, "clock/clock.go"): clock,
	})
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "init")

	ctx := context.Background()
	plan := func(iface string, revert bool) *Plan {
		t.Helper()
		p, err := Extract(ctx, Options{Dir: dir, Iface: iface, Revert: revert})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := plan("store.Store", false)
	if p.Refused() {
		t.Fatalf("clean tree refused: %v", p.Refusals)
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}

	if p := plan("clock.Clock", false); p.Refused() {
		t.Errorf("a second extraction is refused over the first one's uncommitted files: %v", p.Refusals)
	}
	if p := plan("store.Store", true); p.Refused() {
		t.Errorf("-revert is refused over the extraction's own uncommitted files: %v", p.Refusals)
	}

	// A hand edit of a file the revert changes still blocks it.
	f := filepath.Join(dir, "store/store.go")
	src, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{f: strings.Replace(string(src), "// Store stores.", "// Store stores strings.", 1)})
	p = plan("store.Store", true)
	if len(p.Refusals) != 1 || p.Refusals[0].Pos != "store/store.go" {
		t.Errorf("refusals after a hand edit = %v, want store/store.go alone", p.Refusals)
	}
}

// TestPlanShowsTidyChanges extracts from a module whose go line (1.21) is
// below the runtime module's: the plan must say, before -w, that 'go mod
// tidy' will raise it, as a step left to the user's review, and list the
// requirement it adds.
func TestPlanShowsTidyChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy")
	}
	runtimeDir, _ := offlineRuntime(t)
	dir := t.TempDir()
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo 1.21\n\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "store/store.go"): "package store\n\nimport \"context\"\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return id, nil }\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n",
	})
	p, err := Extract(context.Background(), Options{Dir: dir, Iface: "store.Store"})
	if err != nil {
		t.Fatal(err)
	}
	var manual, actions []string
	for _, s := range p.Manual {
		manual = append(manual, s.String())
	}
	for _, s := range p.Actions {
		actions = append(actions, s.String())
	}
	if want := "go.mod: 'go mod tidy' will raise the go line from 1.21 to 1.24"; !strings.Contains(strings.Join(manual, "\n"), want) {
		t.Errorf("manual steps lack %q:\n%s", want, strings.Join(manual, "\n"))
	}
	if want := "go.mod: 'go mod tidy' will add github.com/hashicorp/yamux"; !strings.Contains(strings.Join(actions, "\n"), want) {
		t.Errorf("actions lack %q:\n%s", want, strings.Join(actions, "\n"))
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !strings.Contains(string(gomod), "go 1.21\n") || strings.Contains(string(gomod), "yamux") {
		t.Errorf("the plan wrote go.mod:\n%s", gomod)
	}
}
