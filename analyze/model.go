package analyze

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/packages"
)

// This file holds the model of a seam that analyze builds and that the rest
// of meshsplit (the report, the extract command in rewrite/) consumes. Every
// type here is plain data: building it is the job of seams.go, uses.go and
// conversions.go; judging it is the job of rules.go.

// A Report is the result of analyzing one loaded Program.
type Report struct {
	// Program is what was loaded; its FileSet resolves every token.Pos below.
	Program *Program
	// Seams lists every named interface declared in the loaded module,
	// ranked best extraction candidate first (see Seam.Score).
	Seams []*Seam
	// Notes says what the analysis could not do fully although the
	// packages type-check (a tool it relies on failed on some package);
	// empty when the report is complete.
	Notes []string

	byName map[string]*Seam // Seam.Name -> Seam
}

// A Seam is one named interface type declared in the loaded module: a place
// where the monolith could be cut.
type Seam struct {
	// Name is the interface's qualified name, "import/path.Iface", as the
	// runtime's ServiceDesc.Name spells it.
	Name string
	// Pkg is the package that declares the interface.
	Pkg *packages.Package
	// Obj is the interface's type name; Obj.Type() is a *types.Named.
	Obj *types.TypeName
	// Iface is the interface's underlying type (methods flattened).
	Iface *types.Interface
	// Spec is the declaration of the type in Pkg's syntax.
	Spec *ast.TypeSpec
	// Generic reports whether the interface has type parameters.
	Generic bool

	// Methods lists the interface's methods, embedded ones included, sorted
	// by name (the order of types.Interface.Method).
	Methods []*Method
	// Impls lists the named non-interface types of the module that
	// implement the interface, sorted by name.
	Impls []*Impl
	// Ctors lists the package-level functions of the module that return the
	// interface or one of its implementations, sorted by position.
	Ctors []*Constructor
	// Importers lists the packages other than Pkg that refer to the
	// interface (its name or its methods), sorted by import path.
	Importers []*Importer
	// Conversions lists the places where a concrete (non-interface) value
	// is converted to the interface, sorted by position.
	Conversions []*Conversion

	// Findings holds every finding on the seam: the seam-level ones and
	// those of every method, sorted by position then rule name.
	Findings []*Finding
	// Verdict is the worst verdict of the seam's findings.
	Verdict Verdict
	// Score ranks extraction candidates; higher is better (see score.go and
	// docs/analyze.md).
	Score int
	// Rank is the 1-based position of the seam in Report.Seams.
	Rank int
}

// A Method is one method of a seam's interface.
type Method struct {
	// Name is the method's name.
	Name string
	// Func is the method object; for an embedded method it is the object
	// declared in the embedded interface, so Func.Pos() may lie in another
	// file or package.
	Func *types.Func
	// Sig is Func's signature (its receiver is the declaring interface).
	Sig *types.Signature
	// Embedded is the interface the method was embedded from, or nil when
	// the seam's interface declares it directly.
	Embedded *types.Named

	// Calls counts the call sites of the method through a value of the
	// seam's interface type in the loaded packages.
	Calls int
	// CallsInLoops counts the Calls that sit inside a for or range loop.
	CallsInLoops int
	// CallSites lists those call sites, sorted by position.
	CallSites []*Site

	// Findings holds the method's findings, sorted by position then rule.
	Findings []*Finding
	// Verdict is the worst verdict of the method's findings.
	Verdict Verdict
}

// An Impl is a named type of the module that implements a seam's interface.
type Impl struct {
	// Named is the implementing type (never a pointer).
	Named *types.Named
	// Pkg is the package that declares Named.
	Pkg *packages.Package
	// Pointer reports whether only *Named implements the interface (some
	// method has a pointer receiver); when false Named itself does.
	Pointer bool
	// AlsoUsedAs lists the other interfaces (of the module, a dependency or
	// the standard library) that values of Named or *Named are converted to
	// somewhere in the loaded packages, as found by
	// golang.org/x/tools/refactor/satisfy; sorted by type string. A remote
	// client that replaces the implementation would have to satisfy them too.
	AlsoUsedAs []types.Type

	seam *Seam // the seam implemented
}

// A Constructor is a package-level function of the module whose results
// include the seam's interface or one of its implementations.
type Constructor struct {
	// Func is the function object.
	Func *types.Func
	// Decl is the function's declaration in Pkg's syntax.
	Decl *ast.FuncDecl
	// Pkg is the package that declares the function.
	Pkg *packages.Package
	// Result is the index of the result that is the interface or the
	// implementation.
	Result int
	// ReturnsInterface reports whether that result's type is the interface
	// itself; when false it is a concrete implementation, Impl.
	ReturnsInterface bool
	// Impl is the implementation returned when ReturnsInterface is false.
	Impl *Impl
	// Calls lists the call sites of the function in the loaded packages,
	// sorted by position.
	Calls []*Site
}

// A Site is one place in the loaded source: a call of a constructor or of a
// method.
type Site struct {
	// Pos is the position of the call expression.
	Pos token.Pos
	// Pkg is the package whose syntax holds the site.
	Pkg *packages.Package
	// Call is the call expression.
	Call *ast.CallExpr
	// InLoop reports whether the site sits inside a for or range statement
	// of its function.
	InLoop bool
}

// An Importer is a package other than the declaring one that refers to a
// seam's interface.
type Importer struct {
	// Pkg is the referring package.
	Pkg *packages.Package
	// Refs counts the references to the interface's name in Pkg.
	Refs int
	// Calls counts the method calls through the interface in Pkg.
	Calls int
}

// ConversionKind says where a concrete value is converted to an interface.
type ConversionKind string

// The conversion kinds, named after the syntax that holds the conversion.
const (
	ConvAssign   ConversionKind = "assignment" // x = v, var x I = v
	ConvField    ConversionKind = "field"      // T{F: v} for a struct field of interface type
	ConvElement  ConversionKind = "element"    // []I{v}, map[K]I{k: v}, map keys
	ConvArgument ConversionKind = "argument"   // f(v), append(s, v)
	ConvReturn   ConversionKind = "return"     // return v
	ConvSend     ConversionKind = "send"       // ch <- v
	ConvExplicit ConversionKind = "conversion" // I(v)
)

// A Conversion is one place where a value of a concrete type flows into a
// seam's interface.
type Conversion struct {
	// Pos is the position of the converted expression.
	Pos token.Pos
	// Pkg is the package whose syntax holds the conversion.
	Pkg *packages.Package
	// Expr is the converted expression.
	Expr ast.Expr
	// Concrete is the type of Expr (for example *inventory.memStore).
	Concrete types.Type
	// Kind says what syntax holds the conversion.
	Kind ConversionKind
	// Impl is the implementation Concrete is (or points to), or nil when
	// Concrete is not a named type of the module.
	Impl *Impl
}

// Severity grades a rule's findings.
type Severity int

// The severities, least severe first.
const (
	// Note marks something that behaves differently across a network but
	// does not stop extraction.
	Note Severity = iota
	// Warning marks a method that can be extracted but whose remote
	// behaviour differs in a way callers may notice.
	Warning
	// Error marks a method that cannot cross a network as it stands.
	Error
)

// String returns "note", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Note:
		return "note"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "unknown"
}

// Verdict is the judgement on a method or a seam.
type Verdict int

// The verdicts, best first.
const (
	// Remotable: nothing stops extraction (notes at most).
	Remotable Verdict = iota
	// RemotableWithWarnings: extraction works, with warnings to read.
	RemotableWithWarnings
	// NotRemotable: at least one error finding.
	NotRemotable
)

// String returns "remotable", "remotable with warnings" or "not remotable".
func (v Verdict) String() string {
	switch v {
	case Remotable:
		return "remotable"
	case RemotableWithWarnings:
		return "remotable with warnings"
	case NotRemotable:
		return "not remotable"
	}
	return "unknown"
}

// verdictOf returns the verdict that findings of severity s lead to.
func verdictOf(s Severity) Verdict {
	switch s {
	case Error:
		return NotRemotable
	case Warning:
		return RemotableWithWarnings
	}
	return Remotable
}

// A Finding is one reason a method or seam would behave differently, or not
// work, across a network.
type Finding struct {
	// Rule is the rule that reported the finding.
	Rule *Rule
	// Pos is where the finding applies (a parameter, a result, a method,
	// the interface, or a statement of an implementation).
	Pos token.Pos
	// Method is the method's name, or "" for a seam-level finding.
	Method string
	// Message is one line saying what is wrong and, when it helps, what to do.
	Message string
}
