package analyze

import (
	"go/types"
	"strconv"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// The type rules do not walk types themselves: internal/wiretype's Check,
// which the generator asks too, walks a method's signature and returns its
// problems; each type rule reports the problems of its kind.

// problems returns what wiretype finds in the method's signature.
func (p *Pass) problems() []wiretype.Problem {
	if p.probs == nil {
		p.probs = wiretype.Check(p.Method.Sig, p.Seam.Obj.Pkg())
		if p.probs == nil {
			p.probs = []wiretype.Problem{}
		}
	}
	return p.probs
}

// problemPath spells the path of a problem from its parameter or result:
// "order.Items[].Price", "result#1".
func problemPath(pr wiretype.Problem) string {
	kind := "parameter"
	if pr.Result {
		kind = "result"
	}
	return pr.Path(varLabel(pr.Var, kind, pr.Index))
}

// varLabel names a parameter or result: its name, or "result#1".
func varLabel(v *types.Var, kind string, i int) string {
	if v.Name() != "" && v.Name() != "_" {
		return v.Name()
	}
	return kind + "#" + strconv.Itoa(i+1)
}
