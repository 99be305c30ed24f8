package gen

import (
	"fmt"
	"strings"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// This file writes the parts of a streaming method (an io.Reader parameter,
// or an iter.Seq, iter.Seq2[T, error], <-chan T, io.Reader or io.ReadCloser
// result; wiretype.Streams): the handler returns a runtime Producer of the
// streamed result, the client turns the runtime's Stream back into the
// result, and two functions encode and decode its items.

// writeStreamCall writes the rest of a streaming method's client, after
// its request and response are declared: the CallStream and the results.
func (g *generator) writeStreamCall(w *strings.Builder, m *method, ctxArg string) {
	l := g.l
	upload := "nil"
	if m.streamIn != nil {
		upload = m.streamIn.name
	}
	stream := l.stream
	if m.streamOut == nil {
		stream = "_"
	}
	fmt.Fprintf(w, "%s, %s := %s.%s.CallStream(%s, %d, &%s, &%s, %s)\n", stream, l.err, l.c, g.conn, ctxArg, m.index, l.req, l.resp, upload)
	// Without an error result, the failure reaches the caller through an
	// iter.Seq2's last pair or a reader's Read; other shapes log it.
	if !m.hasErr && (m.streamOut == nil || m.shape == wiretype.Seq || m.shape == wiretype.RecvChan) {
		fmt.Fprintf(w, "if %s != nil {\n%s.Unreported(%s.Name, %q, %s)\n}\n", l.err, g.rt, g.desc, m.fn.Name(), l.err)
	}
	for _, p := range m.params {
		if p.out {
			fmt.Fprintf(w, "if %s != nil && %s.%s != nil {\n*%s = *%s.%s\n}\n", p.name, l.resp, p.outField, p.name, l.resp, p.outField)
		}
	}
	var rets []string
	for _, r := range m.results {
		if !r.stream {
			rets = append(rets, l.resp+"."+r.field)
			continue
		}
		switch m.shape {
		case wiretype.Seq:
			rets = append(rets, fmt.Sprintf("%s.ConsumeSeq(%s, %s, %s)", g.rt, l.stream, l.err, m.itemDec))
		case wiretype.Seq2:
			rets = append(rets, fmt.Sprintf("%s.ConsumeSeq2(%s, %s, %s)", g.rt, l.stream, l.err, m.itemDec))
		case wiretype.RecvChan:
			rets = append(rets, fmt.Sprintf("%s.ConsumeChan(%s, %s, %s, %s)", g.rt, ctxArg, l.stream, l.err, m.itemDec))
		default:
			rets = append(rets, fmt.Sprintf("%s.ConsumeReader(%s, %s)", g.rt, l.stream, l.err))
		}
	}
	if m.hasErr {
		rets = append(rets, l.err)
	}
	if len(rets) > 0 {
		fmt.Fprintf(w, "return %s\n", strings.Join(rets, ", "))
	}
	w.WriteString("}\n")
}

// writeStreamInvoke writes the handler of a streaming method:
// StreamDesc.Invoke, which returns the producer of the streamed result.
func (g *generator) writeStreamInvoke(w *strings.Builder, m *method) {
	name := g.in.Iface.Name()
	l := g.l
	ioPkg := g.imports.Use("io", "io")
	upload := "_"
	if m.streamIn != nil {
		upload = l.upload
	}
	fmt.Fprintf(w, "\n// %s serves %s.%s: it calls impl with the decoded request", m.invoke, name, m.fn.Name())
	if m.streamIn != nil {
		w.WriteString(" and the reader of the caller's bytes")
	}
	if m.streamOut != nil {
		w.WriteString(",\n// and returns the producer of its streamed result")
	}
	w.WriteString(".\n")
	fmt.Fprintf(w, "func %s(%s %s.Context, %s any, %s %s.Message, %s %s.Reader) (%s.Message, %s.Producer, error) {\n", m.invoke, l.ctx, g.ctx, l.impl, l.req, g.rt, upload, ioPkg, g.rt, g.rt)
	fmt.Fprintf(w, "%s, %s := %s(%s)\nif %s != nil {\nreturn nil, nil, %s\n}\n", l.svc, l.err, g.implFn, l.impl, l.err, l.err)
	args := g.invokeArgs(m)
	if m.sendsArgs() {
		fmt.Fprintf(w, "%s := %s.(*%s)\n", l.in, l.req, m.req)
	}
	fmt.Fprintf(w, "%s := new(%s)\n", l.out, m.resp)
	if m.streamOut != nil {
		fmt.Fprintf(w, "var %s %s\n", l.stream, g.typeString(m.streamOut.v.Type()))
	}
	var lhs []string
	for _, r := range m.results {
		if r.stream {
			lhs = append(lhs, l.stream)
		} else {
			lhs = append(lhs, l.out+"."+r.field)
		}
	}
	errVar := "nil"
	if m.hasErr {
		lhs = append(lhs, l.err)
		errVar = l.err
	}
	g.writeCall(w, m, args, lhs)
	prod := "nil"
	switch m.shape {
	case wiretype.Seq:
		prod = fmt.Sprintf("%s.ProduceSeq(%s, %s)", g.rt, l.stream, m.itemEnc)
	case wiretype.Seq2:
		prod = fmt.Sprintf("%s.ProduceSeq2(%s, %s)", g.rt, l.stream, m.itemEnc)
	case wiretype.RecvChan:
		prod = fmt.Sprintf("%s.ProduceChan(%s, %s)", g.rt, l.stream, m.itemEnc)
	case wiretype.Reader, wiretype.ReadCloser:
		prod = fmt.Sprintf("%s.ProduceReader(%s)", g.rt, l.stream)
	}
	fmt.Fprintf(w, "return %s, %s, %s\n}\n", l.out, prod, errVar)
}

// writeItemCodec writes the functions that encode and decode one item of
// a streamed iter.Seq, iter.Seq2 or channel.
func (g *generator) writeItemCodec(w *strings.Builder, m *method) {
	if m.itemEnc == "" {
		return
	}
	name := g.in.Iface.Name()
	l := g.l
	t := g.typeString(m.elem)
	fmt.Fprintf(w, "\n// %s encodes one item of the result %s.%s streams.\n", m.itemEnc, name, m.fn.Name())
	fmt.Fprintf(w, "func %s(%s *%s.Encoder, %s *%s) {\n", m.itemEnc, l.e, g.rt, l.v, t)
	g.codec.encode(w, expr{s: l.v, ptr: true}, "item", m.elem, 0)
	w.WriteString("}\n")
	fmt.Fprintf(w, "\n// %s decodes one item of the result %s.%s streams.\n", m.itemDec, name, m.fn.Name())
	fmt.Fprintf(w, "func %s(%s *%s.Decoder, %s *%s) {\n", m.itemDec, l.d, g.rt, l.v, t)
	g.codec.decode(w, expr{s: l.v, ptr: true}, m.elem, 0)
	w.WriteString("}\n")
}
