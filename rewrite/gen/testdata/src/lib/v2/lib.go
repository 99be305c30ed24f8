// Package lib sits at a path ending in /v2: its name is not the last
// element of its path.
package lib

// Doc is a document.
type Doc struct {
	Title string
	Body  []byte
}
