// Package money is the other package that aliases point into.
package money

// Amount is a sum in cents.
type Amount struct {
	Cents    int64
	Currency string
}
