// Package outparam holds seams whose implementations write through parameters.
package outparam

import (
	"context"
	"strings"
)

// Order is filled in by Create.
type Order struct {
	ID    string
	Items []string
	Tags  map[string]string
}

// Repo writes through some parameters.
type Repo interface {
	Create(ctx context.Context, o *Order) error           // want "out-param: o \\(\\*Order\\) is an out-parameter: \\(\\*repo\\).Create writes through it at outparam/outparam.go:36:2"
	Append(ctx context.Context, o *Order, s string) error // want "out-param: o \\(\\*Order\\) is an out-parameter: \\(\\*repo\\).Append writes through it"
	Read(ctx context.Context, o *Order) (string, error)
	Fill(ctx context.Context, dst []string) error          // want "param-write: dst \\(\\[\\]string\\): \\(\\*repo\\).Fill writes into it"
	Tag(ctx context.Context, tags map[string]string) error // want "param-write: tags \\(map\\[string\\]string\\): \\(\\*repo\\).Tag writes into it"
	Copy(ctx context.Context, o Order) error               // want "param-write: o \\(Order\\): \\(\\*repo\\).Copy writes into it"
	Local(ctx context.Context, o Order) error
	Build(ctx context.Context, b *strings.Builder) error // want "out-param: b \\(\\*strings.Builder\\) is an out-parameter" "unexported-field: b is a strings.Builder, whose unexported fields \\(addr, buf\\)"
	Reset(ctx context.Context, o *Order) error           // want "out-param: o \\(\\*Order\\) is an out-parameter"
}

type repo struct{ n int }

// NewRepo returns the repository.
func NewRepo() Repo { return &repo{} }

func (r *repo) Create(ctx context.Context, o *Order) error {
	r.n++
	o.ID = "o-1"
	return nil
}

func (r *repo) Append(ctx context.Context, o *Order, s string) error {
	o.Items = append(o.Items, s)
	return nil
}

func (r *repo) Read(ctx context.Context, o *Order) (string, error) {
	id := o.ID
	o = &Order{ID: "other"} // rebinding the local pointer is no write through it
	return id + o.ID, nil
}

func (r *repo) Fill(ctx context.Context, dst []string) error {
	for i := range dst {
		dst[i] = "x"
	}
	return nil
}

func (r *repo) Tag(ctx context.Context, tags map[string]string) error {
	delete(tags, "old")
	return nil
}

func (r *repo) Copy(ctx context.Context, o Order) error {
	o.Tags["seen"] = "yes"
	return nil
}

func (r *repo) Local(ctx context.Context, o Order) error {
	o.ID = "local only" // o is a copy: the caller never sees this
	o.Items = nil
	return nil
}

func (r *repo) Build(ctx context.Context, b *strings.Builder) error {
	b.WriteString("hello")
	return nil
}

func (r *repo) Reset(ctx context.Context, o *Order) error {
	*o = Order{}
	return nil
}
