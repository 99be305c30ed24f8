package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// ordersName is the service under which the test's gin engine is published.
const ordersName = "example.com/shop/orders.API"

// ordersEngine is a gin application as a monolith served it before the
// split: a path parameter, a JSON binding and a route group.
func ordersEngine() *gin.Engine {
	return newEngine(func(e *gin.Engine) {
		v1 := e.Group("/v1")
		v1.GET("/orders/:id", func(c *gin.Context) {
			c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "expand": c.Query("expand")})
		})
		v1.POST("/orders", func(c *gin.Context) {
			var in struct {
				SKU string `json:"sku" binding:"required"`
				Qty int    `json:"qty" binding:"min=1"`
			}
			if err := c.ShouldBindJSON(&in); err != nil {
				c.JSON(http.StatusUnprocessableEntity, gin.H{"bind": err.Error()})
				return
			}
			c.JSON(http.StatusCreated, gin.H{"sku": in.SKU, "qty": in.Qty})
		})
	})
}

// TestGatewayServesPublishedGinEngine publishes a *gin.Engine on a node (an
// http.Handler like any other: the runtime knows nothing of gin) and calls
// its routes through the gateway.
func TestGatewayServesPublishedGinEngine(t *testing.T) {
	server := startNode(t, "127.0.0.1:0")
	if err := server.PublishHTTP(ordersName, ordersEngine()); err != nil {
		t.Fatal(err)
	}
	caller := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := caller.Join(ctx, server.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, ordersName); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(New(caller, Config{}))
	t.Cleanup(gw.Close)

	tests := []struct {
		name, method, path, body string
		wantStatus               int
		want                     []string
	}{
		{"path parameter and query", "GET", "/orders.API/v1/orders/42?expand=lines", "", 200,
			[]string{`"id":"42"`, `"expand":"lines"`}},
		{"JSON binding", "POST", "/" + ordersName + "/v1/orders", `{"sku":"A1","qty":3}`, 201,
			[]string{`"sku":"A1"`, `"qty":3`}},
		{"binding refuses", "POST", "/orders.API/v1/orders", `{"qty":0}`, 422,
			[]string{`"bind"`, "SKU", "required"}},
		{"gin's own 404", "GET", "/orders.API/v2/orders/1", "", 404,
			[]string{"404 page not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, gw, tt.method, tt.path, tt.body, nil)
			if status != tt.wantStatus {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.wantStatus, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s: body %s\nlacks %s", tt.method, tt.path, body, w)
				}
			}
		})
	}
}
