package stacks

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/meshsplit/meshsplit/bench/greeter"
	"github.com/meshsplit/meshsplit/bench/greeterpb"
)

// StartGRPC serves greeter.New with gRPC-go on 127.0.0.1 (unary calls,
// protobuf, plaintext HTTP/2) and returns a greeter.Service that converts
// each call to and from the protobuf messages, as a hand-written gRPC
// client of a Go interface would.
func StartGRPC() (*Conn, error) { return startGRPC(nil, nil) }

// startGRPC is StartGRPC with more options for the server and the client.
func startGRPC(serverOpts []grpc.ServerOption, dialOpts []grpc.DialOption) (*Conn, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("grpc stack: listen: %w", err)
	}
	srv := grpc.NewServer(serverOpts...)
	greeterpb.RegisterGreeterServer(srv, grpcServer{impl: greeter.New()})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	cc, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, dialOpts...)...)
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("grpc stack: dial %s: %w", lis.Addr(), err)
	}
	stopServer := func() error {
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpc stack: serve: %w", err)
		}
		return nil
	}
	return &Conn{
		Service: grpcClient{c: greeterpb.NewGreeterClient(cc)},
		closers: []func() error{cc.Close, stopServer},
	}, nil
}

// grpcServer adapts greeter.Service to the generated server interface.
type grpcServer struct {
	greeterpb.UnimplementedGreeterServer
	impl greeter.Service
}

func (s grpcServer) Greet(ctx context.Context, req *greeterpb.GreetRequest) (*greeterpb.GreetReply, error) {
	out, err := s.impl.Greet(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &greeterpb.GreetReply{Greeting: out}, nil
}

func (s grpcServer) Echo(ctx context.Context, req *greeterpb.Doc) (*greeterpb.Doc, error) {
	out, err := s.impl.Echo(ctx, DocFromPB(req))
	if err != nil {
		return nil, err
	}
	return DocToPB(out), nil
}

// grpcClient implements greeter.Service over the generated client.
type grpcClient struct{ c greeterpb.GreeterClient }

func (c grpcClient) Greet(ctx context.Context, name string) (string, error) {
	out, err := c.c.Greet(ctx, &greeterpb.GreetRequest{Name: name})
	if err != nil {
		return "", err
	}
	return out.GetGreeting(), nil
}

func (c grpcClient) Echo(ctx context.Context, doc greeter.Doc) (greeter.Doc, error) {
	out, err := c.c.Echo(ctx, DocToPB(doc))
	if err != nil {
		return greeter.Doc{}, err
	}
	return DocFromPB(out), nil
}

// DocToPB converts a greeter.Doc to its protobuf message.
func DocToPB(d greeter.Doc) *greeterpb.Doc {
	m := &greeterpb.Doc{
		Id:      d.ID,
		Title:   d.Title,
		Owner:   d.Owner,
		Created: timestamppb.New(d.Created),
		Active:  d.Active,
		Ratio:   d.Ratio,
		Tags:    d.Tags,
		Attrs:   d.Attrs,
		Blob:    d.Blob,
	}
	if d.Lines != nil {
		m.Lines = make([]*greeterpb.Line, len(d.Lines))
		for i, l := range d.Lines {
			m.Lines[i] = &greeterpb.Line{Sku: l.SKU, Qty: l.Qty, Price: l.Price, Note: l.Note}
		}
	}
	return m
}

// DocFromPB converts a protobuf Doc back to a greeter.Doc. The time comes
// back in UTC: protobuf's Timestamp carries no zone.
func DocFromPB(m *greeterpb.Doc) greeter.Doc {
	d := greeter.Doc{
		ID:      m.GetId(),
		Title:   m.GetTitle(),
		Owner:   m.GetOwner(),
		Created: m.GetCreated().AsTime(),
		Active:  m.GetActive(),
		Ratio:   m.GetRatio(),
		Tags:    m.GetTags(),
		Attrs:   m.GetAttrs(),
		Blob:    m.GetBlob(),
	}
	if ls := m.GetLines(); ls != nil {
		d.Lines = make([]greeter.Line, len(ls))
		for i, l := range ls {
			d.Lines[i] = greeter.Line{SKU: l.GetSku(), Qty: l.GetQty(), Price: l.GetPrice(), Note: l.GetNote()}
		}
	}
	return d
}
