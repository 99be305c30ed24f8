// Package outparam has a create method that fills in an ID through its
// pointer parameter.
package outparam

import "context"

// User is created with an ID the service assigns.
type User struct {
	ID   int64
	Name string
}

// Users creates users.
type Users interface {
	Create(ctx context.Context, u *User) error
	Rename(ctx context.Context, u *User, name string) (old string, err error)
}
