// Package rewrite is meshsplit extract: it plans the extraction of one
// interface seam into a mesh service and applies the plan.
//
// Extract loads the module with analyze and turns analyze's model of the
// seam (its constructors and their call sites, its conversion sites and
// findings) into a Plan: the generated <iface>_mesh.go (package
// rewrite/gen, which asks internal/wiretype, as analyze does, what can cross
// the wire), the constructors rewritten in place with dave/dst so that they
// return a mesh client when MESHRPC_REMOTE selects the interface, the
// service command that publishes the implementation, and the go.mod change
// that requires the runtime; or the refusals that stop it. Plan.Diff shows
// the plan as a unified diff; Plan.Apply writes it all or nothing, after
// type-checking the result. With Options.Revert the plan undoes an earlier
// extraction.
//
// The exported API is the meshsplit command's own (cmd/meshsplit/extract.go
// drives it), documented so that the command stays thin. It is not a stable
// library API and keeps no compatibility promise; programs should run
// 'meshsplit extract -json', whose output docs/extract.md describes.
package rewrite
