// Command fleetd serves the fleet's shipments over HTTP.
package main

import (
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"os"

	cargo "example.com/fleet"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	tracker := cargo.NewTracker(cargo.NewMemRepository(), logger)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /shipments/{id}", func(w http.ResponseWriter, r *http.Request) {
		s, err := tracker.Track(r.Context(), r.PathValue("id"))
		switch {
		case errors.Is(err, cargo.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			_ = json.NewEncoder(w).Encode(s)
		}
	})
	mux.HandleFunc("POST /shipments", func(w http.ResponseWriter, r *http.Request) {
		var in cargo.Shipment
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s, err := tracker.Book(r.Context(), in)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(s)
	})
	addr := os.Getenv("FLEET_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	log.Fatal(http.ListenAndServe(addr, mux))
}
