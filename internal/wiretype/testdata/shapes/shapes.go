// Package shapes is the corpus of type shapes on which analyze and the
// generator must agree: one interface per shape, each with one method
// (internal/wiretype's TestAgreement runs both on it).
package shapes

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"time"
	"unsafe"

	"github.com/meshsplit/meshsplit/internal/wiretype/testdata/shapes/other"
)

// Item is a plain struct.
type Item struct {
	Name  string
	Price int64
}

// Basics carries every basic kind the codec has.
type Basics interface {
	M(ctx context.Context, b bool, i int8, u uint64, f float32, c complex64, s string, bs []byte) (int, error)
}

// Pointers carries pointers, which come back as out-parameters.
type Pointers interface {
	M(ctx context.Context, p *Item, pp **int) (*Item, error)
}

// Arrays carries arrays.
type Arrays interface {
	M(ctx context.Context, a [3]Item) ([2][]int, error)
}

// Maps carries maps with string and integer keys.
type Maps interface {
	M(ctx context.Context, m map[string][]Item) (map[int]*Item, error)
}

// Point is a comparable struct.
type Point struct{ X, Y int }

// OddKeys carries keys JSON cannot (a caveat, not a refusal).
type OddKeys interface {
	M(ctx context.Context, a map[bool]int, b map[[2]int]string, c map[Point]int, d map[float64]bool, e map[time.Time]int) error
}

// Times carries time.Time.
type Times interface {
	M(ctx context.Context, t time.Time) (time.Time, error)
}

// Stamp is defined as time.Time: carried as a time.
type Stamp time.Time

// Stamp2 is defined as Stamp.
type Stamp2 Stamp

// DefinedTime carries types defined as time.Time.
type DefinedTime interface {
	M(ctx context.Context, s Stamp, s2 *Stamp2) (map[string]Stamp, error)
}

// Blanks has blank fields, which carry nothing.
type Blanks struct {
	N int
	_ chan int
	_ func()
	_ any
	_ uintptr
}

// BlankFields carries structs with blank fields of any type.
type BlankFields interface {
	M(ctx context.Context, b Blanks, o other.Blank) error
}

// Tree is recursive.
type Tree struct {
	Value int
	Kids  []*Tree
}

// A and B refer to each other.
type A struct{ B *B }

// B refers back to A.
type B struct{ As []A }

// Recursive carries recursive types (a caveat, not a refusal).
type Recursive interface {
	M(ctx context.Context, t *Tree, a A) (Tree, error)
}

// own has unexported fields of this package, which the codec reaches.
type own struct {
	n    int
	name string
}

// OwnUnexported carries them.
type OwnUnexported interface {
	M(ctx context.Context, o own) error
}

// Wrap embeds a struct of this package and one of another.
type Wrap struct {
	Item
	other.Pub
	Note string
}

// Embedded carries embedded structs.
type Embedded interface {
	M(ctx context.Context, w Wrap) (*Wrap, error)
}

// Page is generic.
type Page[T any] struct {
	Items []T
	Next  string
}

// Tag does not carry its type argument.
type Tag[T any] struct{ N int }

// Instances carries instantiated generic types.
type Instances interface {
	M(ctx context.Context, p Page[Item], b other.Box[other.Pub]) (Page[*Tree], error)
}

// UnusedTypeArg carries a generic type whose type argument is a function:
// only spelled, never carried.
type UnusedTypeArg interface {
	M(ctx context.Context, t Tag[func()]) error
}

// Level is a named basic type.
type Level int

// Alias is another name of Item.
type Alias = Item

// Named carries named basic types and aliases.
type Named interface {
	M(ctx context.Context, l Level, a Alias, ls []Level) (Level, error)
}

// Variadic carries a variadic parameter.
type Variadic interface {
	M(ctx context.Context, xs ...Item) error
}

// NoError has no error result (a warning, not a refusal).
type NoError interface {
	M(ctx context.Context, n int) int
}

// Anonymous carries unnamed structs and an empty struct value.
type Anonymous interface {
	M(ctx context.Context, s struct{ A, B int }, e struct{}) (struct{ C []string }, error)
}

// Dashed has a field JSON drops (a note, not a refusal).
type Dashed struct {
	N      int
	Secret string `json:"-"`
}

// JSONDash carries it.
type JSONDash interface {
	M(ctx context.Context, d Dashed) error
}

// The types below are named like the generated code's locals.
type (
	req  struct{ N int }
	m    int
	v    map[string]m
	i0   []req
	resp struct{ E e }
	e    string
)

// LocalNames carries them, and an any whose AnyTypes lists them: the
// generated code names its locals otherwise.
type LocalNames interface {
	M(ctx context.Context, r req, x m, y v, z i0, w any) (resp, error)
}

// JSONRaw carries a named byte slice of another package.
type JSONRaw interface {
	M(ctx context.Context, r json.RawMessage) (json.RawMessage, error)
}

// ChanParam takes a channel.
type ChanParam interface {
	M(ctx context.Context, c chan int) error
}

// ChanResult returns a receive-only channel: it streams.
type ChanResult interface {
	M(ctx context.Context) (<-chan string, error)
}

// SeqResult returns an iter.Seq of a struct: it streams.
type SeqResult interface {
	M(ctx context.Context, from int) (iter.Seq[Item], error)
}

// Seq2Result returns an iter.Seq2 of a recursive type and errors, without
// an error result of its own: it streams.
type Seq2Result interface {
	M(ctx context.Context) iter.Seq2[*Tree, error]
}

// ReaderResult returns an io.Reader beside another result: it streams.
type ReaderResult interface {
	M(ctx context.Context, name string) (size int64, r io.Reader, err error)
}

// ReadCloserResult returns an io.ReadCloser: it streams.
type ReadCloserResult interface {
	M(ctx context.Context) (io.ReadCloser, error)
}

// ReaderParam takes an io.Reader, and a pointer that comes back: it streams.
type ReaderParam interface {
	M(ctx context.Context, name string, r io.Reader, p *Item) (int64, error)
}

// ReaderInSeqOut takes an io.Reader and returns a channel of points.
type ReaderInSeqOut interface {
	M(ctx context.Context, r io.Reader) <-chan Point
}

// SendChanResult returns a send-only channel.
type SendChanResult interface {
	M(ctx context.Context) (chan<- int, error)
}

// BidiChanResult returns a bidirectional channel.
type BidiChanResult interface {
	M(ctx context.Context) (chan int, error)
}

// RecvChanParam takes a receive-only channel.
type RecvChanParam interface {
	M(ctx context.Context, c <-chan int) error
}

// Seq2NotError returns an iter.Seq2 whose second type is not error.
type Seq2NotError interface {
	M(ctx context.Context) (iter.Seq2[string, int], error)
}

// TwoStreams returns two readers: only the first streams.
type TwoStreams interface {
	M(ctx context.Context) (io.Reader, io.Reader, error)
}

// ReaderField carries an io.Reader inside a struct.
type ReaderField interface {
	M(ctx context.Context, x struct{ R io.Reader }) error
}

// SeqOfFuncs streams items that are functions.
type SeqOfFuncs interface {
	M(ctx context.Context) (iter.Seq[func()], error)
}

// ReadWriterParam takes an io.ReadWriter, which is not an io.Reader.
type ReadWriterParam interface {
	M(ctx context.Context, rw io.ReadWriter) error
}

// Events is a named channel type.
type Events chan Item

// ChanField reaches a channel through a field.
type ChanField interface {
	M(ctx context.Context, s struct{ Events Events }) error
}

// FuncParam takes a callback.
type FuncParam interface {
	M(ctx context.Context, f func(int) error) error
}

// Handler is a named function type.
type Handler func(Item)

// FuncField reaches a function through a field.
type FuncField interface {
	M(ctx context.Context, h []Handler) error
}

// AnyParam takes any: carried with its dynamic type (a caveat).
type AnyParam interface {
	M(ctx context.Context, v any) error
}

// Dynamic is defined as an empty interface.
type Dynamic interface{}

// Bag holds interface values in every kind of container.
type Bag struct {
	Extras map[string]any
	Attrs  []interface{}
	Pair   [2]Dynamic
	ByKey  map[Level]*any
}

// AnyShapes carries interface values in fields, containers and results.
type AnyShapes interface {
	M(ctx context.Context, b Bag, keys map[any]int) (Dynamic, error)
}

// Cached has fields left off the wire, of types that could not cross.
type Cached struct {
	N     int
	Out   io.Writer      `meshsplit:"-"`
	Done  chan struct{}  `meshsplit:"-" json:"-"`
	hook  func()         `meshsplit:"-"`
	Where *time.Location `meshsplit:"-"`
}

// Omitted carries a struct with fields tagged meshsplit:"-".
type Omitted interface {
	M(ctx context.Context, c Cached) (*Cached, error)
}

// Option configures a call: an option interface.
type Option interface{ apply(*Item) }

// Options takes options, values of a non-empty interface.
type Options interface {
	M(ctx context.Context, opts ...Option) error
}

// WriterParam takes an io.Writer, a non-empty interface.
type WriterParam interface {
	M(ctx context.Context, w io.Writer) error
}

// Store is an interface used as a value.
type Store interface{ Get() int }

// IfaceResult returns an interface value.
type IfaceResult interface {
	M(ctx context.Context) (Store, error)
}

// ErrorParam takes an error.
type ErrorParam interface {
	M(ctx context.Context, err error) error
}

// ErrorFirst returns an error that is not the last result.
type ErrorFirst interface {
	M(ctx context.Context) (error, int)
}

// ErrorField reaches an error through a field.
type ErrorField interface {
	M(ctx context.Context) (struct{ Err error }, error)
}

// ContextField reaches a context.Context through a field.
type ContextField interface {
	M(s struct{ Ctx context.Context }) error
}

// Uintptr carries an address.
type Uintptr interface {
	M(ctx context.Context, p uintptr) error
}

// Addr is a named uintptr.
type Addr uintptr

// NamedUintptr carries it inside a slice.
type NamedUintptr interface {
	M(ctx context.Context) ([]Addr, error)
}

// UnsafePointer carries an unsafe.Pointer.
type UnsafePointer interface {
	M(ctx context.Context, p unsafe.Pointer) error
}

// ForeignUnexportedField carries a struct of another package with an
// unexported field.
type ForeignUnexportedField interface {
	M(ctx context.Context, h other.Hidden) error
}

// Location carries a *time.Location, whose fields are unexported.
type Location interface {
	M(ctx context.Context, l *time.Location) error
}

// ForeignUnexportedType reaches an unexported type of another package.
type ForeignUnexportedType interface {
	M(ctx context.Context) (other.Leveled, error)
}

// ForeignUnexportedTypeArg carries a generic type instantiated with an
// unexported type of another package.
type ForeignUnexportedTypeArg interface {
	M(ctx context.Context, s other.Secrets) error
}

// Empty values encode to no bytes.
type Empty struct{ _ int }

// ZeroSizeSlice carries a slice of them.
type ZeroSizeSlice interface {
	M(ctx context.Context, s []struct{}) error
}

// ZeroSizeNamed carries a slice of a named empty struct.
type ZeroSizeNamed interface {
	M(ctx context.Context) ([]Empty, error)
}

// ZeroSizeMap carries a map whose entries encode to no bytes.
type ZeroSizeMap interface {
	M(ctx context.Context, m map[[0]int]struct{}) error
}

// PointerKey carries a map keyed by pointers.
type PointerKey interface {
	M(ctx context.Context, m map[*Item]int) error
}

// Ref holds a pointer.
type Ref struct{ P *int }

// PointerInKey carries a map keyed by a struct that holds a pointer.
type PointerInKey interface {
	M(ctx context.Context) (map[Ref]string, error)
}

// Generic has a type parameter.
type Generic[T any] interface {
	M(ctx context.Context, t T) error
}

// N uses own's fields, so that vet is content.
func (o own) N() (int, string) { return o.n, o.name }

// Hook uses Cached's unexported field.
func (c Cached) Hook() func() { return c.hook }
