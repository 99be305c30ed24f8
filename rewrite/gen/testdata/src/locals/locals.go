// Package locals declares types named like the locals of the generated
// bodies (receivers, parameters, variables, loop variables), an interface
// named like one, and methods named like the client's field: the generated
// code names its own identifiers otherwise, so none of them is refused.
package locals

type (
	req  struct{ N int }
	m    int
	d    struct{ E e }
	e    []v
	v    map[k0]i0
	k0   string
	i0   struct{ Next *i0 }
	out  [2]in
	in   float64
	ok   bool
	resp struct {
		OK  ok
		Err err
	}
	err string
)

// Locals carries them all.
type Locals interface {
	Send(r req, x m, y d) (out, error)
	Check(p *resp) (ok, error)
}

// svc is an interface named like a local of the generated handlers.
type svc interface {
	Get(key k0) (v, error)
}

// Conn has methods named like the client's field.
type Conn interface {
	c() error
	C(n0 int) error
}
