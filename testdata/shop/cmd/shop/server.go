package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
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
