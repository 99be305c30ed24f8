// Package outcalls holds a seam whose implementation writes through its
// parameters only inside the functions and methods it calls.
package outcalls

import (
	"context"
	"fmt"
)

// Order is filled in by helpers.
type Order struct {
	ID    string
	Lines []string
}

// Validate only reads, although its receiver is a pointer.
func (o *Order) Validate() error {
	if o.ID == "" && len(o.Lines) == 0 {
		return fmt.Errorf("empty order")
	}
	return nil
}

// Number writes through its receiver.
func (o *Order) Number(n int) { o.ID = fmt.Sprint(n) }

// Service delegates its writes.
type Service interface {
	Check(ctx context.Context, o *Order) error   // no write: Validate and describe only read
	Place(ctx context.Context, o *Order) error   // want "out-param: o \\(\\*Order\\) is an out-parameter: \\(\\*service\\).Place writes through it at outcalls/outcalls.go:44:2"
	Fill(ctx context.Context, o *Order) error    // want "out-param: o \\(\\*Order\\) is an out-parameter: \\(\\*service\\).Fill writes through it at outcalls/outcalls.go:49:2"
	Lines(ctx context.Context, l []string) error // want "param-write: l \\(\\[\\]string\\): \\(\\*service\\).Lines writes into it at outcalls/outcalls.go:54:2"
	Walk(ctx context.Context, o *Order) error    // recursion without a write ends
}

type service struct{ n int }

func (s *service) Check(ctx context.Context, o *Order) error {
	describe(o)
	return o.Validate()
}

func (s *service) Place(ctx context.Context, o *Order) error {
	o.Number(s.n)
	return nil
}

func (s *service) Fill(ctx context.Context, o *Order) error {
	addLine(o, "x")
	return nil
}

func (s *service) Lines(ctx context.Context, l []string) error {
	upper(l)
	return nil
}

func (s *service) Walk(ctx context.Context, o *Order) error {
	walk(o, 3)
	return nil
}

// NewService returns the service.
func NewService() Service { return &service{} }

func describe(o *Order) string { return o.ID }

func addLine(o *Order, l string) { setLines(&o.Lines, append(o.Lines, l)) }

func setLines(dst *[]string, lines []string) { *dst = lines }

func upper(l []string) {
	for i := range l {
		l[i] = "X"
	}
}

func walk(o *Order, n int) int {
	if n == 0 {
		return len(o.ID)
	}
	return walk(o, n-1)
}
