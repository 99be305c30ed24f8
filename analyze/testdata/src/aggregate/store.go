// Package aggregate is a store whose sub-stores hang off one aggregate
// interface, as many monoliths organise their persistence.
package aggregate

import (
	"context"
	"database/sql"
)

// User is a row of the users table.
type User struct {
	ID    int64
	Email string
}

// UserStore reads and writes users.
type UserStore interface { // want "behind-aggregate: UserStore has no constructor and is reached only through Store.Users, which is not remotable"
	Get(ctx context.Context, id int64) (User, error)
	Put(ctx context.Context, u User) error
}

// Store is the aggregate: one database, its sub-stores and transactions.
type Store interface {
	Users() UserStore                                          // want "interface: .*" "no-error: .*" "no-context: .*"
	InTx(ctx context.Context, fn func(tx *sql.Tx) error) error // want "func: .*"
}

type users struct{ db *sql.DB }

func (u *users) Get(ctx context.Context, id int64) (User, error) {
	var usr User
	err := u.db.QueryRowContext(ctx, "SELECT id, email FROM users WHERE id = $1", id).Scan(&usr.ID, &usr.Email)
	return usr, err
}

func (u *users) Put(ctx context.Context, usr User) error {
	_, err := u.db.ExecContext(ctx, "INSERT INTO users (id, email) VALUES ($1, $2)", usr.ID, usr.Email)
	return err
}

type store struct{ db *sql.DB }

// Open returns the Store over db.
func Open(db *sql.DB) Store { return &store{db: db} }

func (s *store) Users() UserStore { return &users{db: s.db} }

func (s *store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
