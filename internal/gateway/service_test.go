package gateway

import (
	"context"
	"errors"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// This file holds the services the gateway tests call: an inventory in the
// shape meshsplit extract generates (request and response messages with
// their mesh codec, a ServiceDesc) and a second package's inventory with
// the same short name, to make "inventory.Service" ambiguous.

// inventory is the interface the test service implements.
type inventory interface {
	Reserve(ctx context.Context, sku string, qty int) (reservation, error)
	Slow(ctx context.Context, d time.Duration) error
}

// reservation is Reserve's result.
type reservation struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
	ID  string `json:"id"`
}

// errOutOfStock is what Reserve returns for a quantity over 10.
var errOutOfStock = errors.New("inventory: out of stock")

// stock implements inventory.
type stock struct{ node string }

func (s stock) Reserve(ctx context.Context, sku string, qty int) (reservation, error) {
	if qty > 10 {
		return reservation{}, errOutOfStock
	}
	return reservation{SKU: sku, Qty: qty, ID: s.node + "/" + sku}, nil
}

func (s stock) Slow(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type reserveRequest struct {
	Sku string `json:"sku"`
	Qty int    `json:"qty"`
}

func (m *reserveRequest) MarshalMesh(e *meshrt.Encoder)   { e.String(m.Sku); e.Int(int64(m.Qty)) }
func (m *reserveRequest) UnmarshalMesh(d *meshrt.Decoder) { m.Sku = d.String(); m.Qty = int(d.Int()) }

type reserveResponse struct {
	R0 reservation `json:"r0"`
}

func (m *reserveResponse) MarshalMesh(e *meshrt.Encoder) {
	e.String(m.R0.SKU)
	e.Int(int64(m.R0.Qty))
	e.String(m.R0.ID)
}

func (m *reserveResponse) UnmarshalMesh(d *meshrt.Decoder) {
	m.R0.SKU = d.String()
	m.R0.Qty = int(d.Int())
	m.R0.ID = d.String()
}

type slowRequest struct {
	D time.Duration `json:"d"`
}

func (m *slowRequest) MarshalMesh(e *meshrt.Encoder)   { e.Int(int64(m.D)) }
func (m *slowRequest) UnmarshalMesh(d *meshrt.Decoder) { m.D = time.Duration(d.Int()) }

type emptyMessage struct{}

func (*emptyMessage) MarshalMesh(*meshrt.Encoder)   {}
func (*emptyMessage) UnmarshalMesh(*meshrt.Decoder) {}

// inventoryDesc describes inventory published under name.
func inventoryDesc(name string) *meshrt.ServiceDesc {
	return &meshrt.ServiceDesc{
		Name:        name,
		Fingerprint: "inventory-1",
		Methods: []meshrt.MethodDesc{
			{
				Name: "Reserve", Fingerprint: "reserve-1", Params: []string{"sku", "qty"},
				NewRequest:  func() meshrt.Message { return new(reserveRequest) },
				NewResponse: func() meshrt.Message { return new(reserveResponse) },
				Invoke: func(ctx context.Context, impl any, req meshrt.Message) (meshrt.Message, error) {
					r := req.(*reserveRequest)
					r0, err := impl.(inventory).Reserve(ctx, r.Sku, r.Qty)
					return &reserveResponse{R0: r0}, err
				},
			},
			{
				Name: "Slow", Fingerprint: "slow-1", Params: []string{"d"},
				NewRequest:  func() meshrt.Message { return new(slowRequest) },
				NewResponse: func() meshrt.Message { return new(emptyMessage) },
				Invoke: func(ctx context.Context, impl any, req meshrt.Message) (meshrt.Message, error) {
					return &emptyMessage{}, impl.(inventory).Slow(ctx, req.(*slowRequest).D)
				},
			},
		},
		Errors: []meshrt.ErrorDesc{meshrt.Sentinel("example.com/shop/inventory.ErrOutOfStock", errOutOfStock)},
	}
}
