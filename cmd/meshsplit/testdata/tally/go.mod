module example.com/tally

go 1.26

replace github.com/meshsplit/meshsplit/runtime => ../../../../runtime
