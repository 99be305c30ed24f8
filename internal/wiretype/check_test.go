package wiretype

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// checkSrc is the package TestCheck type-checks: each method of I is one
// case, named after it.
const checkSrc = `package p

import (
	"context"
	"time"
)

type Item struct{ Name string; Price int }
type Tree struct{ Kids []*Tree; Up *Tree }
type Events chan int
type Stamp time.Time
type Blank struct{ N int; _ chan int; _ func() }
type Empty struct{ _ int }
type Dash struct{ A int ` + "`json:\"-\"`" + `; B int ` + "`json:\"-,\"`" + ` }
type Key struct{ P *int }
type Box[T any] struct{ V T }
type Tag[T any] struct{ N int }

type I interface {
	Fine(ctx context.Context, a Item, p *Item, s []Item, m map[string]Item, t time.Time) (Item, error)
	CtxAnywhere(a int, ctx context.Context) error
	ErrorFirst(ctx context.Context) (error, int)
	ErrorParam(err error) error
	Chans(c chan int, s struct{ E Events; F Events }) error
	Funcs(f func(), m map[string]func()) error
	Anys(v any, s []interface{ M() }) error
	Unsafe(u uintptr) error
	Recursive(t Tree, u *Tree) error
	DefinedTime(s Stamp, m map[Stamp]int) error
	Blanks(b Blank) error
	ZeroSize(s []struct{}, e []Empty, m map[struct{}][0]int, ok struct{}) error
	Keys(a map[*Item]int, b map[Key]int, c map[bool]int, d map[time.Time]int) error
	JSON(d Dash) error
	Generic(b Box[Item], c Box[chan int], t Tag[func()]) error
	Location(l *time.Location) error
}
`

// TestCheck pins the problems Check finds, as "kind path" (the path from
// the parameter or result, spelled with its name or p<i>/r<i>), in order.
func TestCheck(t *testing.T) {
	tests := []struct {
		method string
		want   []string
		prefix bool // only the first len(want) problems are pinned
	}{
		{"Fine", nil, false},
		{"CtxAnywhere", nil, false},
		{"ErrorFirst", []string{"interface r0"}, false},
		{"ErrorParam", []string{"interface err"}, false},
		{"Chans", []string{"chan c", "chan s.E", "chan s.F"}, false},
		{"Funcs", []string{"func f", "func m[]"}, false},
		{"Anys", []string{"any v", "interface s[]"}, false}, // an any is carried (a warning); a non-empty interface is not
		{"Unsafe", []string{"unsafe u"}, false},
		{"Recursive", []string{"recursive t.Kids[]", "recursive t.Up"}, false},
		{"DefinedTime", []string{"defined-time s", "map-key m"}, false},
		{"Blanks", nil, false},
		{"ZeroSize", []string{"zero-size s", "zero-size e", "zero-size m", "map-key m"}, false},
		{"Keys", []string{"pointer-key a", "pointer-key b", "map-key c", "map-key d"}, false},
		{"JSON", []string{"json-dash d.A"}, false},
		{"Generic", []string{"chan c.V"}, false},
		// time.Location's fields may change with Go; its name comes first.
		{"Location", []string{"unexported-field l.name"}, true},
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", checkSrc, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	iface := pkg.Scope().Lookup("I").Type().Underlying().(*types.Interface)
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			obj, _, _ := types.LookupFieldOrMethod(iface, false, pkg, tt.method)
			if obj == nil {
				t.Fatalf("no method %s", tt.method)
			}
			var got []string
			for _, p := range Check(obj.(*types.Func).Signature(), pkg) {
				root := p.Var.Name()
				if root == "" {
					root = "p"
					if p.Result {
						root = "r"
					}
					root += string(rune('0' + p.Index))
				}
				got = append(got, p.Kind.String()+" "+p.Path(root))
			}
			if tt.prefix && len(got) > len(tt.want) {
				got = got[:len(tt.want)]
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("Check:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	seen := map[string]bool{}
	blocking := 0
	for _, k := range Kinds() {
		name := k.String()
		if strings.HasPrefix(name, "kind(") || seen[name] {
			t.Errorf("kind %d has no name of its own: %q", int(k), name)
		}
		seen[name] = true
		if k.Blocks() {
			blocking++
		}
	}
	if blocking != 9 || len(seen) != 16 {
		t.Errorf("%d kinds, %d blocking; want 16 and 9", len(seen), blocking)
	}
}
