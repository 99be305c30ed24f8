module example.com/fleet

go 1.24

// meshsplit extract adds a require for the runtime module; this replace
// makes it resolve to the runtime of the checkout the fleet is bundled with.
replace github.com/meshsplit/meshsplit/runtime => ../../runtime
