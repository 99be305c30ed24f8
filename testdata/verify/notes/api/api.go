// Package api serves notes over HTTP.
package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"example.com/notes/notes"
)

// API serves the notes of Store.
type API struct {
	Store notes.Store
}

// New returns an API over store.
func New(store notes.Store) *API { return &API{Store: store} }

// ServeHTTP answers GET /notes?owner=x and POST /notes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		if id := r.URL.Query().Get("id"); id != "" {
			n, err := a.Store.Get(r.Context(), id)
			if errors.Is(err, notes.ErrNotFound) {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			json.NewEncoder(w).Encode(n)
			return
		}
		list, err := a.Store.List(r.Context(), r.URL.Query().Get("owner"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(list)
	case http.MethodPost:
		var n notes.Note
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := a.Store.Save(r.Context(), n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"id": id})
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
