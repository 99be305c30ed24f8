package rewrite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSwitchRoundTrip adds the switch to constructors of a fixture file,
// compares the result with a golden file and checks that every line outside
// the constructors is byte-identical; then it removes the switches and
// expects the original bytes.
func TestSwitchRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		switches []ctorSwitch
	}{
		{"plain", []ctorSwitch{{Name: "NewService", Local: "newServiceLocal", Switch: "meshService", Iface: "Service"}}},
		{"error", []ctorSwitch{{Name: "NewChecked", Local: "newCheckedLocal", Switch: "meshService", Iface: "Service", WithError: true}}},
		{"generic", []ctorSwitch{{Name: "NewGeneric", Local: "newGenericLocal", Switch: "store.MeshServiceSwitch", Iface: "store.Service"}}},
	}
	src, err := os.ReadFile("testdata/ctor/plain.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df, err := parseDST("plain.go", src)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.switches {
				if _, err := addSwitch(df.file, df.funcDecl(s.Name), s); err != nil {
					t.Fatal(err)
				}
			}
			got, err := df.print()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "ctor", tt.name+".golden"), got)
			checkOnlyAdded(t, src, got)

			// The rewritten file is recognised and reverts to the original bytes.
			df2, err := parseDST("plain.go", got)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.switches {
				w, l := df2.funcDecl(s.Name), df2.funcDecl(s.Local)
				if !isSwitch(w, s.Local) {
					t.Fatalf("%s is not recognised as a switch", s.Name)
				}
				removeSwitch(df2.file, w, l)
			}
			back, err := df2.print()
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != string(src) {
				t.Errorf("revert does not give the original bytes:\n%s", UnifiedDiff("plain.go", src, back, false))
			}
		})
	}
}

func TestIsSwitchOnOriginal(t *testing.T) {
	src, _ := os.ReadFile("testdata/ctor/plain.go.txt")
	df, err := parseDST("plain.go", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"NewService", "NewChecked", "NewGeneric"} {
		if isSwitch(df.funcDecl(name), localName(name)) {
			t.Errorf("original %s taken for a switch", name)
		}
	}
}

func TestParseDSTRefusesUnformatted(t *testing.T) {
	_, err := parseDST("x.go", []byte("package x\nfunc  F() {}\n"))
	if err == nil || !strings.Contains(err.Error(), "gofmt -w x.go") {
		t.Fatalf("parseDST = %v, want a gofmt error", err)
	}
}

// checkOnlyAdded fails unless every line of old appears in new, in order:
// the rewrite inserts lines and changes none of the old ones except the
// constructor's name line (which the diff shows as one line replaced).
func checkOnlyAdded(t *testing.T, old, new []byte) {
	t.Helper()
	a, b := splitLines(old), splitLines(new)
	changed := 0
	for _, op := range diffLines(a, b) {
		if op.kind == opDelete {
			changed++
			if !strings.HasPrefix(a[op.a], "func ") {
				t.Errorf("line %d changed: %q", op.a+1, a[op.a])
			}
		}
	}
	if changed > 1 {
		t.Errorf("%d original lines changed, want at most the constructor's signature line", changed)
	}
}
