module example.com/fleet

go 1.24

// meshsplit extract adds a require for the runtime; this replace makes it
// resolve to the checkout the fleet is bundled with.
replace github.com/meshsplit/meshsplit => ../..
