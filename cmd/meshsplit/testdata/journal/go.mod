module example.com/journal

go 1.24.0

// meshsplit extract adds a require for the runtime module; this replace
// makes it resolve to the runtime of the checkout the fixture is bundled with.
replace github.com/meshsplit/meshsplit/runtime => ../../../../runtime
