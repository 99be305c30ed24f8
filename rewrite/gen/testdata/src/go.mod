module example.com/fixtures

go 1.26

require example.com/thirdparty v0.0.0

replace example.com/thirdparty => ./thirdparty
