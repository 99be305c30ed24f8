// Command ledgerd serves a ledger over HTTP: POST /post with a JSON list of
// postings, GET /balance?account=cash.
package main

import (
	"errors"
	"log"
	"net/http"
	"os"

	"github.com/goccy/go-json"

	"example.com/ledger/ledger"
)

func main() {
	book := ledger.NewBook()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) {
		var postings []ledger.Posting
		if err := json.NewDecoder(r.Body).Decode(&postings); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := book.Post(r.Context(), postings); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /balance", func(w http.ResponseWriter, r *http.Request) {
		v, err := book.Balance(r.Context(), r.URL.Query().Get("account"))
		if errors.Is(err, ledger.ErrUnknownAccount) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{"balance": v})
	})
	addr := os.Getenv("LEDGER_HTTP")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	log.Fatal(http.ListenAndServe(addr, mux))
}
