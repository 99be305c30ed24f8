package analyze

import (
	"go/token"
	"testing"
)

// fakeSeam builds a seam with the given verdict, constructors (true:
// returns the interface), implementations, importers, conversions and
// calls inside loops, for the score alone.
func fakeSeam(name string, v Verdict, ctors []bool, impls, importers, conversions, loopCalls int) *Seam {
	s := &Seam{Name: name, Verdict: v}
	for _, iface := range ctors {
		s.Ctors = append(s.Ctors, &Constructor{ReturnsInterface: iface})
	}
	for range impls {
		s.Impls = append(s.Impls, &Impl{})
	}
	for range importers {
		s.Importers = append(s.Importers, &Importer{})
	}
	for range conversions {
		s.Conversions = append(s.Conversions, &Conversion{})
	}
	s.Methods = []*Method{{Name: "M", CallsInLoops: loopCalls}}
	return s
}

func TestScore(t *testing.T) {
	tests := []struct {
		name string
		seam *Seam
		want int
	}{
		{"best possible", fakeSeam("a", Remotable, []bool{true}, 1, 3, 0, 0), 90},
		{"fan-in capped", fakeSeam("a", Remotable, []bool{true}, 1, 9, 0, 0), 90},
		{"with warnings", fakeSeam("a", RemotableWithWarnings, []bool{true}, 1, 3, 0, 0), 75},
		{"not remotable scores 0", fakeSeam("a", NotRemotable, []bool{true}, 1, 3, 0, 0), 0},
		{"concrete constructor only", fakeSeam("a", Remotable, []bool{false}, 1, 0, 0, 0), 40 + 12 + 15},
		{"interface constructor wins over concrete", fakeSeam("a", Remotable, []bool{false, true}, 1, 0, 0, 0), 40 + 20 + 15},
		{"conversions, no constructor", fakeSeam("a", Remotable, nil, 1, 0, 2, 0), 40 + 6 + 15},
		{"nothing to switch", fakeSeam("a", Remotable, nil, 1, 0, 0, 0), 40 + 15},
		{"several implementations", fakeSeam("a", Remotable, []bool{true}, 2, 0, 0, 0), 40 + 20 + 8},
		{"no implementation", fakeSeam("a", Remotable, nil, 0, 0, 0, 0), 40},
		{"chatty", fakeSeam("a", Remotable, []bool{true}, 1, 0, 0, 2), 40 + 20 + 15 - 6},
		{"chattiness capped", fakeSeam("a", Remotable, []bool{true}, 1, 0, 0, 100), 40 + 20 + 15 - 15},
		{"never below 0", fakeSeam("a", RemotableWithWarnings, nil, 0, 0, 0, 100), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := score(tt.seam); got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRank(t *testing.T) {
	seams := []*Seam{
		fakeSeam("z.NotRemotable", NotRemotable, []bool{true}, 1, 3, 0, 0),
		fakeSeam("b.Second", Remotable, []bool{true}, 1, 0, 0, 0),
		fakeSeam("a.Tie", RemotableWithWarnings, nil, 1, 3, 0, 0), // 25+15+15 = 55
		fakeSeam("c.Tie", Remotable, nil, 1, 0, 0, 0),             // 40+15 = 55
		fakeSeam("a.First", Remotable, []bool{true}, 1, 3, 0, 0),
	}
	rank(seams)
	want := []string{"a.First", "b.Second", "c.Tie", "a.Tie", "z.NotRemotable"}
	for i, s := range seams {
		if s.Name != want[i] || s.Rank != i+1 {
			t.Errorf("position %d: %s (rank %d, score %d), want %s", i, s.Name, s.Rank, s.Score, want[i])
		}
	}
}

func TestPosOrder(t *testing.T) {
	tests := []struct {
		a, b string
		less bool
	}{
		{"a.go:9:1", "a.go:10:1", true},
		{"a.go:10:1", "a.go:9:1", false},
		{"a.go:3:10", "a.go:3:9", false},
		{"a.go:3:2", "b.go:1:1", true},
		{"a/b.go:1:1", "a.go:1:1", false},
		{"", "a.go:1:1", true},
		{"x.go:4", "x.go:4:1", true},
	}
	for _, tt := range tests {
		if got := posStringLess(tt.a, tt.b); got != tt.less {
			t.Errorf("posStringLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
	}
	fset := token.NewFileSet()
	// b.go is added (parsed) first, so its token.Pos values are smaller.
	fb := fset.AddFile("b.go", -1, 100)
	fa := fset.AddFile("a.go", -1, 100)
	fa.SetLines([]int{0, 10, 20})
	if !posLess(fset, fa.Pos(15), fb.Pos(1)) {
		t.Error("posLess orders by parse order, want by file name")
	}
	if !posLess(fset, fa.Pos(5), fa.Pos(15)) || posLess(fset, fa.Pos(15), fa.Pos(15)) {
		t.Error("posLess within one file is wrong")
	}
}
