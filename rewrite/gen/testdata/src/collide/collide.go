// Package collide declares names the generated file would import under,
// so the imports take other names.
package collide

// meshrt, context and fmt are taken at package scope.
var meshrt = "not the runtime"

type context struct{ deadline int }

func fmt() string { return meshrt }

// Shadow is an interface without context parameters, since this package
// cannot import "context" under its name.
type Shadow interface {
	Lookup(key string) (string, error)
	Peek(c context) (int, error)
}
