package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"example.com/shop/catalog"
	"example.com/shop/inventory"
	"example.com/shop/orders"
	"example.com/shop/payments"
)

// How the API reads requests and answers them, errors included.

// errBadRequest marks errors in the client's request.
var errBadRequest = errors.New("bad request")

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// fail answers err with the status its cause deserves.
func (s *server) fail(w http.ResponseWriter, err error) {
	status, code := classify(err)
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "err", err)
	}
	writeJSON(w, status, errorBody{Error: err.Error(), Code: code})
}

// classify maps an error to an HTTP status and a short code, by its cause.
func classify(err error) (status int, code string) {
	var declined *payments.DeclinedError
	switch {
	case errors.As(err, &declined): // the custom error type
		return http.StatusPaymentRequired, declined.Code
	case errors.Is(err, catalog.ErrNotFound):
		return http.StatusUnprocessableEntity, "unknown_product"
	case errors.Is(err, inventory.ErrOutOfStock):
		return http.StatusConflict, "out_of_stock"
	case errors.Is(err, orders.ErrAlreadyCancelled):
		return http.StatusConflict, "already_cancelled"
	case errors.Is(err, orders.ErrUnknownOrder), errors.Is(err, sql.ErrNoRows):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, orders.ErrInvalidOrder), errors.Is(err, inventory.ErrInvalidQuantity), errors.Is(err, errBadRequest):
		return http.StatusBadRequest, "bad_request"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusGatewayTimeout, "timeout"
	default:
		return http.StatusInternalServerError, "internal"
	}
}

// queryInt reads an optional integer query parameter (0 when absent).
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("query parameter %s=%q: want an integer: %w", name, v, errBadRequest)
	}
	return n, nil
}

// readJSON decodes a request body of at most 1 MiB, refusing unknown fields.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %v: %w", err, errBadRequest)
	}
	return nil
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
