// Package imports refers to packages whose names differ from their paths,
// and names parameters like the imports and locals of generated code.
package imports

import (
	"context"
	"net/http"

	lib "example.com/fixtures/lib/v2"
	"example.com/fixtures/yaml.v3"
)

// Codec converts documents.
type Codec interface {
	Decode(ctx context.Context, json string, http http.Header) (lib.Doc, error)
	Encode(ctx context.Context, doc lib.Doc, node yaml.Node, meshrt int, fmt []string) ([]yaml.Node, error)
	Locals(c, req, resp, err string, errors int) error
	Plain(ctx string, context int) string
}
