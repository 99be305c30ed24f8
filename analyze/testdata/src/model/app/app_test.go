package app_test

import (
	"context"
	"testing"

	"fixtures/model/app"
	"fixtures/model/store"
)

func TestRun(t *testing.T) {
	if err := app.Run(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	var sink store.Sink = store.Discard{}
	_ = sink
}
