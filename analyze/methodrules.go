package analyze

import (
	"go/types"
	"strings"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// The rules about the shape of an interface and the behaviour of its
// methods: generics, foreign unexported methods, error results, contexts,
// writes through parameters.

// GenericRule reports generic interfaces.
var GenericRule = &Rule{
	Name:      "generic",
	Doc:       "a generic interface has no single wire format; extract an instantiation behind a non-generic interface",
	Category:  "shape",
	Severity:  Error,
	SeamLevel: true,
	run: func(p *Pass) {
		if p.Seam.Generic {
			p.Reportf(p.Seam.Obj.Pos(), "%s has type parameters: declare a non-generic interface for the instantiation to extract", p.Seam.Obj.Name())
		}
	},
}

// UnexportedMethodRule reports unexported methods embedded from another
// package's interface: only that package's types can implement them, so
// no generated client can.
var UnexportedMethodRule = &Rule{
	Name:     "unexported-method",
	Doc:      "an unexported method of another package's interface cannot be implemented by a generated client",
	Category: "shape",
	Severity: Error,
	run: func(p *Pass) {
		fn := p.Method.Func
		if fn.Exported() || fn.Pkg() == nil || fn.Pkg() == p.Seam.Obj.Pkg() {
			return
		}
		p.Reportf(fn.Pos(), "%s is an unexported method of package %s: only that package's types can implement it, so no generated client can", fn.Name(), fn.Pkg().Path())
	},
}

// NoErrorRule reports methods whose last result is not an error.
var NoErrorRule = &Rule{
	Name:     "no-error",
	Doc:      "a method without an error result cannot report a network failure; the generated client logs it and returns zero values",
	Category: "errors",
	Severity: Warning,
	run: func(p *Pass) {
		res := p.Method.Sig.Results()
		if res.Len() > 0 && wiretype.IsError(res.At(res.Len()-1).Type()) {
			return
		}
		if _, r, shape, _ := wiretype.Streams(p.Method.Sig); r >= 0 && (shape == wiretype.Seq2 || !shape.Items()) {
			return // the streamed result carries the failure: an error pair, or Read's error
		}
		p.Reportf(p.Method.Func.Pos(), "%s has no error result: a network failure cannot reach the caller (the client logs it and returns zero values); add an error result", p.Method.Name)
	},
}

// NoContextRule notes methods without a context.Context parameter.
var NoContextRule = &Rule{
	Name:     "no-context",
	Doc:      "without a context.Context parameter no deadline or cancellation reaches the server",
	Category: "semantics",
	Severity: Note,
	run: func(p *Pass) {
		params := p.Method.Sig.Params()
		for i := range params.Len() {
			if wiretype.IsContext(params.At(i).Type()) {
				return
			}
		}
		p.Reportf(p.Method.Func.Pos(), "%s has no context.Context parameter: remote calls run with context.Background(), so no deadline or cancellation reaches the server", p.Method.Name)
	},
}

// OutParamRule reports pointer parameters an implementation writes
// through. Extract copies the pointee back when the call returns, so the
// caller sees the writes; what it cannot restore is other aliasing.
var OutParamRule = &Rule{
	Name:     "out-param",
	Doc:      "a pointer parameter the implementation writes through is copied back when a remote call returns; other aliases of the pointee are not updated",
	Category: "semantics",
	Severity: Warning,
	run: func(p *Pass) {
		for _, w := range paramWrites(p, true) {
			p.Reportf(w.param.Pos(), "%s (%s) is an out-parameter: %s writes through it at %s; extract copies the pointee back when the call returns, but other pointers to it are not updated", w.label, p.typeString(w.param.Type()), w.impl, p.Prog.Position(w.at))
		}
	},
}

// ParamWriteRule reports slice and map parameters (or pointers inside
// value parameters) an implementation writes through: remotely the write
// lands in the server's copy and the caller never sees it.
var ParamWriteRule = &Rule{
	Name:     "param-write",
	Doc:      "writes through a slice, map or nested pointer of a non-pointer parameter are lost remotely",
	Category: "semantics",
	Severity: Warning,
	run: func(p *Pass) {
		for _, w := range paramWrites(p, false) {
			p.Reportf(w.param.Pos(), "%s (%s): %s writes into it at %s; remotely the write lands in the server's copy and the caller never sees it; return the result instead", w.label, p.typeString(w.param.Type()), w.impl, p.Prog.Position(w.at))
		}
	},
}

// implName spells an implementation's method, "(*T).M" or "T.M".
func implName(impl *Impl, method string) string {
	if impl.Pointer {
		return "(*" + impl.Named.Obj().Name() + ")." + method
	}
	return impl.Named.Obj().Name() + "." + method
}

// BehindAggregateRule reports a seam that the code reaches only through a
// larger interface that cannot cross the network: the sub-stores of one
// aggregate store (Store.Users() UserStore) when Store is not remotable.
// The program reaches UserStore only by calling Store, which stays in
// process, so extracting UserStore alone moves nothing. It needs every
// seam's verdict, so Run applies it after the other rules (behindAggregate).
var BehindAggregateRule = &Rule{
	Name:      "behind-aggregate",
	Doc:       "a seam with no constructor of its own, reached only through methods of interfaces that are not remotable: extracting it alone splits nothing",
	Category:  "shape",
	Severity:  Note,
	SeamLevel: true,
	run:       func(*Pass) {}, // see behindAggregate
}

// behindAggregate applies BehindAggregateRule to every seam of rep, once
// all verdicts are known.
func behindAggregate(prog *Program, seams []*Seam) {
	for _, s := range seams {
		if len(s.Ctors) > 0 || s.Generic {
			continue
		}
		var via []string
		reachable := false
		for _, a := range seams {
			if a == s {
				continue
			}
			for _, m := range a.Methods {
				if !returns(m.Sig, s.Obj) {
					continue
				}
				if a.Verdict != NotRemotable {
					reachable = true
				}
				via = append(via, a.Obj.Name()+"."+m.Name)
			}
		}
		if reachable || len(via) == 0 {
			continue
		}
		p := &Pass{Prog: prog, Seam: s, rule: BehindAggregateRule}
		p.Reportf(s.Obj.Pos(), "%s has no constructor and is reached only through %s, which is not remotable: extracting %s alone splits nothing; make that interface remotable or give %s a constructor of its own",
			s.Obj.Name(), strings.Join(via, ", "), s.Obj.Name(), s.Obj.Name())
		s.Findings = append(s.Findings, p.findings...)
		sortFindings(prog.Fset, s.Findings)
	}
}

// returns reports whether one of sig's results is the named type of tn.
func returns(sig *types.Signature, tn *types.TypeName) bool {
	for i := range sig.Results().Len() {
		if n, ok := types.Unalias(sig.Results().At(i).Type()).(*types.Named); ok && n.Obj() == tn {
			return true
		}
	}
	return false
}
