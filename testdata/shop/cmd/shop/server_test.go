package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// openedAt is the shop's clock in the tests, in a non-UTC zone.
var openedAt = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600))

// api drives one shop over real HTTP on 127.0.0.1.
type api struct {
	t    *testing.T
	base string
}

// newAPI builds the shop with newServer, as main does, and serves it.
func newAPI(t *testing.T, cfg config) *api {
	t.Helper()
	cfg.Now = func() time.Time { return openedAt }
	srv, err := newServer(cfg)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &api{t: t, base: ts.URL}
}

// do sends a request with an optional JSON body and headers, and returns the
// status and the body.
func (a *api) do(method, path string, body any, header ...string) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// want sends a request, checks the status and decodes the JSON answer into v
// (when v is not nil).
func (a *api) want(status int, v any, method, path string, body any, header ...string) []byte {
	a.t.Helper()
	got, out := a.do(method, path, body, header...)
	if got != status {
		a.t.Fatalf("%s %s = %d %s, want %d", method, path, got, out, status)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, out, err)
		}
	}
	return out
}

// order is an order as the API shows it.
type order struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	TotalCents     int64  `json:"total_cents"`
	ChargeID       string `json:"charge_id"`
	IdempotencyKey string `json:"idempotency_key"`
	CreatedAt      string `json:"created_at"`
	CancelledAt    string `json:"cancelled_at"`
}

// basket is a POST /orders body for customer c1.
func basket(token string, lines ...map[string]any) map[string]any {
	return map[string]any{
		"customer":      map[string]string{"id": "c1", "email": "ann@example.com"},
		"payment_token": token,
		"lines":         lines,
	}
}

func line(sku string, qty int) map[string]any { return map[string]any{"sku": sku, "qty": qty} }

func TestProducts(t *testing.T) {
	a := newAPI(t, config{})
	var skus []string
	after := ""
	for range 10 { // bounded: 5 products, 2 per page
		var page struct {
			Products []map[string]any `json:"products"`
			Next     string           `json:"next"`
		}
		a.want(http.StatusOK, &page, "GET", "/products?limit=2&after="+after, nil)
		for _, p := range page.Products {
			skus = append(skus, p["sku"].(string))
			if _, leaked := p["cost"]; leaked {
				t.Errorf("product %v shows its cost", p)
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if want := []string{"mug-blue", "mug-red", "poster-gopher", "sticker-pack", "tshirt-m"}; !slices.Equal(skus, want) {
		t.Errorf("all products = %v, want %v", skus, want)
	}

	var p struct {
		Name       string `json:"name"`
		PriceCents int64  `json:"price_cents"`
		UpdatedAt  string `json:"updated_at"`
	}
	a.want(http.StatusOK, &p, "GET", "/products/mug-blue", nil)
	if p.Name != "Blue mug" || p.PriceCents != 1200 || p.UpdatedAt != "2026-12-01T09:00:00+01:00" {
		t.Errorf("GET /products/mug-blue = %+v", p)
	}
	a.want(http.StatusNotFound, nil, "GET", "/products/lamp", nil)
	a.want(http.StatusBadRequest, nil, "GET", "/products?limit=many", nil)
}

func TestThumbnail(t *testing.T) {
	a := newAPI(t, config{})
	status, body := a.do("GET", "/products/mug-red/thumbnail", nil)
	if status != http.StatusOK {
		t.Fatalf("thumbnail = %d %s", status, body)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("thumbnail is not a PNG: %v", err)
	}
	if r, _, _, _ := img.At(3, 3).RGBA(); r>>8 != 200 || img.Bounds().Dx() != 16 {
		t.Errorf("thumbnail is %v with red %d, want a 16x16 red swatch", img.Bounds(), r>>8)
	}
	var e errorBody
	a.want(http.StatusNotFound, &e, "GET", "/products/sticker-pack/thumbnail", nil)
	if e.Code != "no_thumbnail" {
		t.Errorf("a product without thumbnail: code %q", e.Code)
	}
	a.want(http.StatusNotFound, &e, "GET", "/products/lamp/thumbnail", nil)
	if e.Code != "not_found" {
		t.Errorf("an unknown product's thumbnail: code %q", e.Code)
	}
}

func TestOrderLifecycle(t *testing.T) {
	a := newAPI(t, config{})
	var quote struct {
		TotalCents int64 `json:"total_cents"`
	}
	a.want(http.StatusOK, &quote, "POST", "/quote", map[string]any{"lines": []any{line("mug-blue", 2), line("sticker-pack", 1)}})
	if quote.TotalCents != 2900 {
		t.Errorf("quote = %d cents, want 2900", quote.TotalCents)
	}
	var placed order
	raw := a.want(http.StatusCreated, &placed, "POST", "/orders", basket("tok_visa", line("mug-blue", 2), line("sticker-pack", 1)))
	if placed.ID == "" || placed.Status != "paid" || placed.TotalCents != 2900 || placed.ChargeID == "" {
		t.Fatalf("placed = %+v", placed)
	}
	if placed.CreatedAt != "2026-12-01T09:00:00+01:00" {
		t.Errorf("created_at = %q, want the shop's clock in CET", placed.CreatedAt)
	}
	if bytes.Contains(raw, []byte("tok_visa")) || bytes.Contains(raw, []byte("margin")) {
		t.Errorf("the order shows what customers must not see: %s", raw)
	}

	var got order
	a.want(http.StatusOK, &got, "GET", "/orders/"+placed.ID, nil)
	if got != placed {
		t.Errorf("GET /orders/%s = %+v, want %+v", placed.ID, got, placed)
	}
	var stock map[string]int
	a.want(http.StatusOK, &stock, "GET", "/stock?sku=mug-blue&sku=sticker-pack", nil)
	if stock["mug-blue"] != 18 || stock["sticker-pack"] != 99 || len(stock) != 2 {
		t.Errorf("stock after the order = %v", stock)
	}
	receipt := a.want(http.StatusOK, nil, "GET", "/orders/"+placed.ID+"/receipt", nil)
	if !bytes.Contains(receipt, []byte(placed.ChargeID)) || !bytes.Contains(receipt, []byte("29.00 EUR")) {
		t.Errorf("receipt:\n%s", receipt)
	}
	var list []order
	a.want(http.StatusOK, &list, "GET", "/customers/c1/orders", nil)
	if len(list) != 1 || list[0].ID != placed.ID {
		t.Errorf("c1's orders = %+v", list)
	}
	var health map[string]int
	a.want(http.StatusOK, &health, "GET", "/healthz", nil)
	if health["pending_notifications"] != 1 || health["orders_placed"] != 1 {
		t.Errorf("healthz = %v", health)
	}

	var cancelled order
	a.want(http.StatusOK, &cancelled, "POST", "/orders/"+placed.ID+"/cancel", nil)
	if cancelled.Status != "cancelled" || cancelled.CancelledAt == "" {
		t.Errorf("cancelled = %+v", cancelled)
	}
	a.want(http.StatusConflict, nil, "POST", "/orders/"+placed.ID+"/cancel", nil)
	a.want(http.StatusOK, &stock, "GET", "/stock?sku=mug-blue", nil)
	if stock["mug-blue"] != 20 {
		t.Errorf("stock after cancelling = %v", stock)
	}
	receipt = a.want(http.StatusOK, nil, "GET", "/orders/"+placed.ID+"/receipt", nil)
	if !bytes.Contains(receipt, []byte("refunded: 29.00 EUR")) {
		t.Errorf("receipt after cancelling:\n%s", receipt)
	}
	a.want(http.StatusOK, &health, "GET", "/healthz", nil)
	if health["pending_notifications"] != 2 || health["orders_cancelled"] != 1 {
		t.Errorf("healthz = %v", health)
	}
}

func TestOrderErrors(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		header   []string
		status   int
		wantCode string
	}{
		{"card declined", "POST", "/orders", basket("tok_declined", line("mug-blue", 1)), nil, http.StatusPaymentRequired, "card_declined"},
		{"insufficient funds", "POST", "/orders", basket("tok_insufficient", line("mug-blue", 1)), nil, http.StatusPaymentRequired, "insufficient_funds"},
		{"out of stock", "POST", "/orders", basket("tok_visa", line("poster-gopher", 4)), nil, http.StatusConflict, "out_of_stock"},
		{"unknown product", "POST", "/orders", basket("tok_visa", line("lamp", 1)), nil, http.StatusUnprocessableEntity, "unknown_product"},
		{"no lines", "POST", "/orders", basket("tok_visa"), nil, http.StatusBadRequest, "bad_request"},
		{"zero quantity", "POST", "/orders", basket("tok_visa", line("mug-blue", 0)), nil, http.StatusBadRequest, "bad_request"},
		{"malformed JSON", "POST", "/orders", `{"customer":`, nil, http.StatusBadRequest, "bad_request"},
		{"unknown field", "POST", "/orders", `{"customer":{"id":"c1","email":"a@b"},"lines":[],"tip":5}`, nil, http.StatusBadRequest, "bad_request"},
		{"bad idempotency key", "POST", "/orders", basket("tok_visa", line("mug-blue", 1)), []string{"Idempotency-Key", "-1"}, http.StatusBadRequest, "bad_request"},
		{"quote of an unknown product", "POST", "/quote", `{"lines":[{"sku":"lamp","qty":1}]}`, nil, http.StatusUnprocessableEntity, "unknown_product"},
		{"quote with a bad coupon", "POST", "/quote", `{"lines":[{"sku":"mug-blue","qty":1}],"coupon":{"code":"X","percent_off":200}}`, nil, http.StatusBadRequest, "bad_request"},
		{"unknown order", "GET", "/orders/ord-404", nil, nil, http.StatusNotFound, "not_found"},
		{"receipt of an unknown order", "GET", "/orders/ord-404/receipt", nil, nil, http.StatusNotFound, "not_found"},
		{"cancel an unknown order", "POST", "/orders/ord-404/cancel", nil, nil, http.StatusNotFound, "not_found"},
		{"restock nothing", "POST", "/stock/mug-blue/restock", `{"qty":0}`, nil, http.StatusBadRequest, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, config{})
			var e errorBody
			a.want(tt.status, &e, tt.method, tt.path, tt.body, tt.header...)
			if e.Code != tt.wantCode || e.Error == "" {
				t.Errorf("error body = %+v, want code %q and a message", e, tt.wantCode)
			}
			var stock map[string]int
			a.want(http.StatusOK, &stock, "GET", "/stock", nil)
			if stock["mug-blue"] != 20 || stock["poster-gopher"] != 3 {
				t.Errorf("stock changed by a failed request: %v", stock)
			}
		})
	}
}

func TestNoOrdersYet(t *testing.T) {
	a := newAPI(t, config{})
	if body := a.want(http.StatusOK, nil, "GET", "/customers/nobody/orders", nil); strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("orders of a customer without any = %s, want []", body)
	}
}

// TestIdempotencyKeyHeader uses the largest uint64 key: it must come back
// exactly, and a retry must return the first order.
func TestIdempotencyKeyHeader(t *testing.T) {
	a := newAPI(t, config{})
	const key = "18446744073709551615"
	var first, retry order
	a.want(http.StatusCreated, &first, "POST", "/orders", basket("tok_visa", line("tshirt-m", 1)), "Idempotency-Key", key)
	a.want(http.StatusCreated, &retry, "POST", "/orders", basket("tok_visa", line("tshirt-m", 1)), "Idempotency-Key", key)
	if first.IdempotencyKey != key || retry != first {
		t.Errorf("first %+v, retry %+v; want the same order with key %s", first, retry, key)
	}
	var stock map[string]int
	a.want(http.StatusOK, &stock, "GET", "/stock?sku=tshirt-m", nil)
	if stock["tshirt-m"] != 9 {
		t.Errorf("tshirt-m stock = %d, want 9: sold once", stock["tshirt-m"])
	}
}

func TestRestock(t *testing.T) {
	a := newAPI(t, config{})
	a.want(http.StatusNoContent, nil, "POST", "/stock/mug-red/restock", `{"qty":3}`)
	var stock map[string]int
	a.want(http.StatusOK, &stock, "GET", "/stock?sku=mug-red", nil)
	if stock["mug-red"] != 8 {
		t.Errorf("mug-red after restocking 3 = %d, want 8", stock["mug-red"])
	}
}

// TestRequestDeadline: the warehouse takes an hour, the request may take
// 50ms, and the deadline reaches inventory.Restock through the context.
func TestRequestDeadline(t *testing.T) {
	a := newAPI(t, config{RequestTimeout: 50 * time.Millisecond, RestockDelay: time.Hour})
	var e errorBody
	a.want(http.StatusGatewayTimeout, &e, "POST", "/stock/mug-red/restock", `{"qty":3}`)
	if e.Code != "timeout" || !strings.Contains(e.Error, "deadline exceeded") {
		t.Errorf("error body = %+v, want a timeout", e)
	}
	var stock map[string]int
	a.want(http.StatusOK, &stock, "GET", "/stock?sku=mug-red", nil)
	if stock["mug-red"] != 5 {
		t.Errorf("mug-red after an abandoned restock = %d, want 5", stock["mug-red"])
	}
}

// TestInvoiceGateway runs the shop with the other payments.Gateway, which
// books into the audit ledger.
func TestInvoiceGateway(t *testing.T) {
	a := newAPI(t, config{Gateway: "invoice", CreditLimit: 3000})
	var placed order
	a.want(http.StatusCreated, &placed, "POST", "/orders", basket("acct-c1", line("mug-blue", 2)))
	if !strings.HasPrefix(placed.ChargeID, "invoice_") {
		t.Errorf("charge %q, want an invoice", placed.ChargeID)
	}
	var e errorBody
	a.want(http.StatusPaymentRequired, &e, "POST", "/orders", basket("acct-c1", line("mug-blue", 1)))
	if e.Code != "credit_limit" {
		t.Errorf("over the credit limit: %+v", e)
	}
	var ledger []string
	a.want(http.StatusOK, &ledger, "GET", "/ledger", nil)
	want := []string{
		`shop post receivable:c1 24.00 "invoice ` + placed.ChargeID + `"`,
		"shop order " + placed.ID + " paid customer=c1 total=24.00 margin=15.00",
	}
	if !slices.Equal(ledger, want) {
		t.Errorf("ledger = %q\nwant %q", ledger, want)
	}
	receipt := a.want(http.StatusOK, nil, "GET", "/orders/"+placed.ID+"/receipt", nil)
	if !bytes.HasPrefix(receipt, []byte("INVOICE "+placed.ChargeID)) {
		t.Errorf("receipt:\n%s", receipt)
	}
}

func TestNewServerRejectsUnknownGateway(t *testing.T) {
	if _, err := newServer(config{Gateway: "bitcoin"}); err == nil || !strings.Contains(err.Error(), "bitcoin") {
		t.Errorf("newServer(bitcoin) = %v, want an error naming it", err)
	}
}
