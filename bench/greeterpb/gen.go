// Package greeterpb holds the protobuf messages and gRPC stubs of the
// benchmarks' grpc stack, generated from greeter.proto. The generated files
// are committed; CI does not regenerate them. To regenerate (protoc from the
// protobuf-compiler package, and protoc-gen-go v1.36.12 and
// protoc-gen-go-grpc v1.6.2 on PATH):
//
//	go generate ./greeterpb
package greeterpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative greeter.proto
