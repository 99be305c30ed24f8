// Package money holds the one amount type the shop uses: whole cents.
package money

import "fmt"

// Cents is an amount of money in the smallest unit of its currency.
// Every price, charge and balance in the shop is a Cents value; the currency
// travels beside it where it matters.
type Cents int64

// String formats c as units and cents, for example "12.34" or "-0.05".
func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign = "-"
		c = -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// Times returns c multiplied by a quantity.
func (c Cents) Times(qty int) Cents { return c * Cents(qty) }

// Percent returns pct percent of c, rounded down to whole cents.
func (c Cents) Percent(pct int) Cents { return c * Cents(pct) / 100 }
