// Package ledgertest holds helpers for the ledger's tests.
package ledgertest

import (
	"errors"

	"example.com/ledger/ledger"
)

// ErrInjected is the error FailingCheck returns.
var ErrInjected = errors.New("ledgertest: injected failure")

// FailingCheck is a ledger.Options.Check that rejects every entry.
func FailingCheck(ledger.Entry) error { return ErrInjected }
