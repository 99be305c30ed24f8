package money_test

import (
	"testing"

	"example.com/shop/money"
)

func TestCents(t *testing.T) {
	tests := []struct {
		name string
		got  money.Cents
		want string
	}{
		{"zero", 0, "0.00"},
		{"cents only", 5, "0.05"},
		{"units and cents", 1234, "12.34"},
		{"negative", -5, "-0.05"},
		{"times", money.Cents(1200).Times(3), "36.00"},
		{"percent rounds down", money.Cents(999).Percent(50), "4.99"},
		{"hundred percent", money.Cents(2500).Percent(100), "25.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
