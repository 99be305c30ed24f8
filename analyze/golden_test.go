package analyze

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files: go test ./analyze -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGoldenShop pins the full report, human, JSON, DOT and HTML, on the example
// monolith testdata/shop.
func TestGoldenShop(t *testing.T) {
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("..", "testdata", "shop")})
	if err != nil {
		t.Fatalf("loading testdata/shop: %v", err)
	}
	if len(prog.Errors) > 0 {
		t.Fatalf("testdata/shop does not type-check: %v", prog.Errors)
	}
	rep := Run(prog)
	for _, tt := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"shop.txt", func(b *bytes.Buffer) error { return rep.WriteText(b, false) }},
		{"shop.json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"shop-v.txt", func(b *bytes.Buffer) error { return rep.WriteText(b, true) }},
		{"shop.dot", func(b *bytes.Buffer) error { return rep.WriteDOT(b) }},
		{"shop.html", func(b *bytes.Buffer) error { return rep.WriteHTML(b, HTMLOptions{}) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.write(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./analyze -run Golden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("report differs from %s (if the change is intended, run: go test ./analyze -run Golden -update)\n%s", path, lineDiff(string(want), got.String()))
			}
		})
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	var out bytes.Buffer
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl []byte
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if !bytes.Equal(wl, gl) {
			out.WriteString("line " + itoa(i+1) + ":\n  want: " + string(wl) + "\n  got:  " + string(gl) + "\n")
			shown++
		}
	}
	return out.String()
}

// TestDeterministic loads and analyzes testdata/shop twice, with tests, and
// expects byte-identical JSON: go/packages parses files in parallel, so
// nothing may depend on the order of token.Pos values or of maps.
func TestDeterministic(t *testing.T) {
	var outs [2]bytes.Buffer
	for i := range outs {
		prog, err := Load(context.Background(), Config{Dir: filepath.Join("..", "testdata", "shop"), Tests: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := Run(prog).WriteJSON(&outs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Errorf("two analyses of testdata/shop differ:\n%s", lineDiff(outs[0].String(), outs[1].String()))
	}
}
