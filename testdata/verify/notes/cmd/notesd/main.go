// Command notesd serves notes on :8080.
package main

import (
	"log"
	"net/http"

	"example.com/notes/api"
	"example.com/notes/notes"
)

func main() {
	log.Fatal(http.ListenAndServe(":8080", api.New(notes.NewStore())))
}
