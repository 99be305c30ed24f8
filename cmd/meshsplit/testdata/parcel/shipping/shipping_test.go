package shipping

import (
	"context"
	"errors"
	"os"
	"testing"

	"example.com/parcel/rates"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var spans = tracetest.NewSpanRecorder()

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	os.Exit(m.Run())
}

// find returns the ended span named name in trace id.
func find(t *testing.T, id trace.TraceID, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() == id && s.Name() == name {
			return s
		}
	}
	dump(t)
	t.Fatalf("no span %q in trace %s", name, id)
	return nil
}

// dump logs every span recorded, to see what a trace looks like.
func dump(t *testing.T) {
	for _, s := range spans.Ended() {
		t.Logf("span %q trace %s id %s parent %s", s.Name(), s.SpanContext().TraceID(), s.SpanContext().SpanID(), s.Parent().SpanID())
	}
}

// descends reports whether span child has ancestor among its parents.
func descends(child, ancestor sdktrace.ReadOnlySpan) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	for p := child.Parent(); p.IsValid(); {
		if p.SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
		s, ok := byID[p.SpanID()]
		if !ok {
			return false
		}
		p = s.Parent()
	}
	return false
}

func TestShipIsOneTrace(t *testing.T) {
	ctx, root := otel.Tracer("test").Start(context.Background(), "storefront.checkout")
	label, err := New().Ship(ctx, 1200, "eu")
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	if label.Cents != 1800 {
		t.Errorf("price %d, want 1800", label.Cents)
	}
	id := root.SpanContext().TraceID()
	ship, quote := find(t, id, "shipping.Ship"), find(t, id, "rates.Quote")
	if !descends(quote, ship) {
		dump(t)
		t.Errorf("rates.Quote does not descend from shipping.Ship")
	}
	if testing.Verbose() {
		dump(t)
	}
}

func TestGoldPlanTravelsAsBaggage(t *testing.T) {
	plan, _ := baggage.NewMember("plan", "gold")
	bag, _ := baggage.New(plan)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	label, err := New().Ship(ctx, 1200, "eu")
	if err != nil {
		t.Fatal(err)
	}
	if label.Cents != 1440 {
		t.Errorf("gold price %d, want 1440", label.Cents)
	}
}

func TestUnknownZone(t *testing.T) {
	_, err := New().Ship(context.Background(), 100, "moon")
	if !errors.Is(err, rates.ErrNoZone) {
		t.Fatalf("Ship: %v, want rates.ErrNoZone", err)
	}
}
