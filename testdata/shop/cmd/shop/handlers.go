package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"example.com/shop/catalog"
	"example.com/shop/inventory"
	"example.com/shop/orders"
)

// The handlers of the HTTP API, in the order routes registers them. Each one
// calls the services through their interfaces only.

// listProducts serves one page of the catalog: ?after=<sku>&limit=<n>.
func (s *server) listProducts(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit")
	if err != nil {
		s.fail(w, err)
		return
	}
	page, next, err := s.cat.List(r.Context(), r.URL.Query().Get("after"), limit)
	if err == io.EOF { // the last page: a standard-library sentinel compared with ==
		err = nil
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if page == nil {
		page = []catalog.Product{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": page, "next": next})
}

func (s *server) getProduct(w http.ResponseWriter, r *http.Request) {
	p, err := s.cat.Get(r.Context(), r.PathValue("sku"))
	if err == catalog.ErrNotFound { // compared with ==: Get returns it as is
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no product %q", r.PathValue("sku")), Code: "not_found"})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *server) getThumbnail(w http.ResponseWriter, r *http.Request) {
	img, err := s.cat.Thumbnail(r.Context(), r.PathValue("sku"))
	if err == catalog.ErrNotFound {
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no product %q", r.PathValue("sku")), Code: "not_found"})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	if img == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "product has no thumbnail", Code: "no_thumbnail"})
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(img)
}

// getStock serves the free stock: ?sku=a&sku=b, or every SKU.
func (s *server) getStock(w http.ResponseWriter, r *http.Request) {
	levels, err := s.inv.Levels(r.Context(), r.URL.Query()["sku"]...)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, levels)
}

// restock adds stock: {"qty": n}. It waits for the warehouse as long as the
// client's request lasts.
func (s *server) restock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Qty int `json:"qty"`
	}
	if err := readJSON(r, &body); err != nil {
		s.fail(w, err)
		return
	}
	if err := s.inv.Restock(r.Context(), r.PathValue("sku"), body.Qty); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// quote prices a basket: {"lines": [...], "coupon": {...}}.
func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Lines  []inventory.Line `json:"lines"`
		Coupon *orders.Coupon   `json:"coupon,omitempty"`
	}
	if err := readJSON(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	total, err := s.ord.Quote(r.Context(), req.Lines, req.Coupon)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_cents": total, "currency": "EUR"})
}

// placeRequest is the body of POST /orders. The payment token travels here
// because orders.Customer never reads or writes it as JSON.
type placeRequest struct {
	Customer     orders.Customer  `json:"customer"`
	PaymentToken string           `json:"payment_token"`
	Lines        []inventory.Line `json:"lines"`
	Coupon       *orders.Coupon   `json:"coupon,omitempty"`
}

// placeOrder places an order. An Idempotency-Key header (a uint64) makes a
// retry return the first order.
func (s *server) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req placeRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	o := &orders.Order{Customer: req.Customer, Lines: req.Lines, Coupon: req.Coupon}
	o.Customer.PaymentToken = req.PaymentToken
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		key, err := strconv.ParseUint(h, 10, 64)
		if err != nil {
			s.fail(w, fmt.Errorf("Idempotency-Key %q: want an unsigned 64-bit number: %w", h, errBadRequest))
			return
		}
		o.IdempotencyKey = key
	}
	if err := s.ord.Place(r.Context(), o); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

func (s *server) getOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.order(w, r)
	if ok {
		writeJSON(w, http.StatusOK, o)
	}
}

func (s *server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	if err := s.ord.Cancel(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, err)
		return
	}
	if o, ok := s.order(w, r); ok {
		writeJSON(w, http.StatusOK, o)
	}
}

func (s *server) getReceipt(w http.ResponseWriter, r *http.Request) {
	o, ok := s.order(w, r)
	if !ok {
		return
	}
	doc, err := s.pay.Receipt(r.Context(), o.ChargeID)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(doc)
}

// order looks up the order named in the path; when there is none it answers
// 404 and returns false.
func (s *server) order(w http.ResponseWriter, r *http.Request) (*orders.Order, bool) {
	o, err := s.ord.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return nil, false
	}
	if o == nil { // Get's (nil, nil): no such order
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no order %q", r.PathValue("id")), Code: "not_found"})
		return nil, false
	}
	return o, true
}

func (s *server) customerOrders(w http.ResponseWriter, r *http.Request) {
	list, err := s.ord.ListByCustomer(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	if list == nil {
		list = []orders.Order{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *server) getLedger(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.ledger.Lines())
}

// health reports the queue of mail and the order events seen on the bus.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int64{
		"pending_notifications": int64(s.mail.Pending()),
		"orders_placed":         s.placed.Load(),
		"orders_cancelled":      s.cancelled.Load(),
	})
}
