// Command shop serves the example shop's HTTP JSON API.
//
// Environment:
//
//	SHOP_HTTP          listen address (default ":8080")
//	SHOP_GATEWAY       payment gateway: "sandbox" (default) or "invoice"
//	SHOP_CREDIT_LIMIT  invoice gateway credit limit per customer, in cents
//	SHOP_TIMEOUT       deadline of each request, such as "5s" (default 10s)
//
// Try it:
//
//	curl localhost:8080/products
//	curl -d '{"customer":{"id":"c1","email":"ann@example.com"},"payment_token":"tok_visa","lines":[{"sku":"mug-blue","qty":2}]}' localhost:8080/orders
//	curl localhost:8080/orders/ord-000001
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"example.com/shop/money"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// run serves the shop until SIGINT or SIGTERM, then drains in-flight requests.
func run(logger *slog.Logger) error {
	addr := os.Getenv("SHOP_HTTP")
	if addr == "" {
		addr = ":8080"
	}
	cfg := config{Gateway: os.Getenv("SHOP_GATEWAY"), Logger: logger}
	if v := os.Getenv("SHOP_CREDIT_LIMIT"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("SHOP_CREDIT_LIMIT=%q: want a positive number of cents", v)
		}
		cfg.CreditLimit = money.Cents(n)
	}
	if v := os.Getenv("SHOP_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("SHOP_TIMEOUT=%q: want a positive duration such as \"5s\"", v)
		}
		cfg.RequestTimeout = d
	}
	switch cfg.Gateway {
	case "", "sandbox", "invoice":
	default:
		return fmt.Errorf("SHOP_GATEWAY=%q: want \"sandbox\" or \"invoice\"", cfg.Gateway)
	}
	srv, err := newServer(cfg)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go srv.deliverMail(ctx, 5*time.Second)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("SHOP_HTTP=%q: %w", addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("shop listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
