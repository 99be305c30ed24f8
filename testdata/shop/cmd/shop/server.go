package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"example.com/shop/audit"
	"example.com/shop/catalog"
	"example.com/shop/inventory"
	"example.com/shop/money"
	"example.com/shop/notify"
	"example.com/shop/orders"
	"example.com/shop/payments"
)

// config is what newServer needs; main fills it from the environment.
type config struct {
	// Gateway selects the payment gateway: "sandbox" (the default) or
	// "invoice".
	Gateway string
	// CreditLimit is the invoice gateway's limit per customer.
	CreditLimit money.Cents
	// RequestTimeout bounds every request, and every service call made for
	// it (defaultRequestTimeout when zero).
	RequestTimeout time.Duration
	// RestockDelay is how long the warehouse takes to confirm a restock.
	RestockDelay time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger gets the shop's events (discarded when nil).
	Logger *slog.Logger
}

// server is the shop: the services wired together through their
// constructors, and the HTTP API over them.
type server struct {
	cat     catalog.Catalog
	inv     inventory.Service
	pay     payments.Gateway
	ord     orders.Service
	mail    notify.Notifier
	ledger  *audit.Ledger
	log     *slog.Logger
	mux     *http.ServeMux
	timeout time.Duration

	placed, cancelled atomic.Int64 // counted from the event bus
}

// newServer builds every service of the shop and the HTTP API. This is the
// only place that knows how the parts fit together.
func newServer(cfg config) (*server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CreditLimit == 0 {
		cfg.CreditLimit = defaultCreditLimit
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	s := &server{log: cfg.Logger, timeout: cfg.RequestTimeout}

	products := seedProducts(cfg.Now())
	thumbs, err := seedThumbnails(products)
	if err != nil {
		return nil, fmt.Errorf("seed catalog: %w", err)
	}
	if s.cat, err = catalog.NewMemory(products, thumbs); err != nil {
		return nil, fmt.Errorf("seed catalog: %w", err)
	}
	// NewStore returns *inventory.Store; the shop uses it as an inventory.Service.
	s.inv = inventory.NewStore(inventory.Config{Stock: seedStock(), RestockDelay: cfg.RestockDelay, Now: cfg.Now})

	// The ledger has no constructor: a composite literal, used below both
	// as a payments.Journal (an argument) and an orders.Recorder (a field).
	s.ledger = &audit.Ledger{Name: "shop"}
	switch cfg.Gateway {
	case "", "sandbox":
		s.pay = payments.NewSandbox(payments.SandboxConfig{Now: cfg.Now})
	case "invoice":
		if s.pay, err = payments.NewInvoice(s.ledger, payments.InvoiceConfig{CreditLimit: cfg.CreditLimit, Now: cfg.Now}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown payment gateway %q: use \"sandbox\" or \"invoice\"", cfg.Gateway)
	}

	s.mail = notify.NewOutbox(notify.OutboxConfig{Now: cfg.Now})
	bus := notify.NewBus()
	bus.Subscribe("order.placed", func(e notify.Event) {
		s.placed.Add(1)
		s.log.Info("order placed", "order", e.Key, "customer", e.Data["customer"], "total", e.Data["total"])
	})
	bus.Subscribe("order.cancelled", func(e notify.Event) {
		s.cancelled.Add(1)
		s.log.Info("order cancelled", "order", e.Key)
	})

	s.ord, err = orders.NewService(s.cat, s.inv, s.pay, s.mail, orders.Config{
		Recorder: s.ledger, // the concrete ledger, assigned to an interface field
		Events:   bus,
		Now:      cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// routes registers the HTTP API.
func (s *server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /products", s.listProducts)
	s.mux.HandleFunc("GET /products/{sku}", s.getProduct)
	s.mux.HandleFunc("GET /products/{sku}/thumbnail", s.getThumbnail)
	s.mux.HandleFunc("GET /stock", s.getStock)
	s.mux.HandleFunc("POST /stock/{sku}/restock", s.restock)
	s.mux.HandleFunc("POST /quote", s.quote)
	s.mux.HandleFunc("POST /orders", s.placeOrder)
	s.mux.HandleFunc("GET /orders/{id}", s.getOrder)
	s.mux.HandleFunc("POST /orders/{id}/cancel", s.cancelOrder)
	s.mux.HandleFunc("GET /orders/{id}/receipt", s.getReceipt)
	s.mux.HandleFunc("GET /customers/{id}/orders", s.customerOrders)
	s.mux.HandleFunc("GET /ledger", s.getLedger)
	s.mux.HandleFunc("GET /healthz", s.health)
}

// defaultRequestTimeout is config.RequestTimeout when it is zero.
const defaultRequestTimeout = 10 * time.Second

// ServeHTTP implements http.Handler. Each request gets a deadline, which the
// services see through their context.Context parameters.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

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

// deliverMail takes the queued notifications every interval and logs them,
// until ctx ends. The example shop has no SMTP server: the log is its mail.
func (s *server) deliverMail(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		msgs, err := s.mail.Take(100)
		if err != nil {
			s.log.Error("mail", "err", err)
			continue
		}
		for _, m := range msgs {
			s.log.Info("mail", "to", m.To, "subject", m.Subject)
		}
	}
}

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
