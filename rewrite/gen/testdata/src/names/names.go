// Package names mixes unnamed, blank and named parameters and results.
package names

import "context"

// Mixer has every way of naming.
type Mixer interface {
	Unnamed(context.Context, string, int) (string, error)
	Blank(_ context.Context, _ string, p1 int) (p0 string, _ error)
	Named(ctx context.Context, a, b int) (sum int, product int, err error)
	Clash(ctx context.Context, id string, ID int) (Id bool, err error)
}

// Fields has names that differ only in case, once exported.
type Fields interface {
	Same(ctx context.Context, id string, Id int) (ID bool, err error)
	Out(ctx context.Context, o *int) (O int, err error)
}

// cases has methods whose names differ only in case.
type cases interface {
	get(ctx context.Context) (int, error)
	Get(ctx context.Context) (int, error)
}
