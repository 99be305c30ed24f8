// Package analyze finds the interface seams of a Go module and judges
// whether each could cross a network as it stands.
//
// Load loads a module with golang.org/x/tools/go/packages (full syntax and
// types, as go build sees it); Run builds a Report: for every named
// interface declared in the module, a Seam with its methods,
// implementations, constructors and their call sites, importers, method
// call sites, the conversions of concrete values to it, and the findings
// of the remotability rules (Rules), from which follow a verdict and a
// score that ranks the seams. Report.Lookup resolves "pkg.Iface" names;
// WriteText (optionally with WriteDetails) and WriteJSON print the report.
//
// The files read top to bottom: model.go (the types), load.go (loading),
// seams.go (seams, implementations, constructors), uses.go (call sites,
// importers, conversions), satisfy.go (other interfaces an implementation
// is used as), typewalk.go and writes.go (what the rules look at: the type
// rules report the problems that internal/wiretype, the one judge of what
// can cross the wire, finds in a signature, as the generator refuses them),
// rules.go (the rule framework), typerules.go and methodrules.go (the
// rules), score.go, lookup.go, report.go. docs/analyze.md
// documents the rules, the score and the JSON schema.
//
// The exported API is the meshsplit tool's own: extract and verify build
// on it and it changes with them. It is documented, but it is not a stable
// library API and keeps no compatibility promise; programs should run
// 'meshsplit analyze -json', whose schema is versioned.
package analyze
