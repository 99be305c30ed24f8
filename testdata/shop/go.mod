module example.com/shop

go 1.26

// meshsplit extract adds a require for the runtime; this replace makes it
// resolve to the checkout the shop is bundled with.
replace github.com/meshsplit/meshsplit => ../..
