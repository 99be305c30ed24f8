package runtime

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// writeLog is a net.Conn that records every Write it gets.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	got    chan struct{}
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	w.mu.Unlock()
	w.got <- struct{}{}
	return len(p), nil
}

func (w *writeLog) Close() error { return nil }

func (w *writeLog) SetWriteDeadline(time.Time) error { return nil }

// yamuxHeader builds a yamux frame header.
func yamuxHeader(typ byte, length uint32) []byte {
	h := make([]byte, yamuxHeaderSize)
	h[1] = typ
	binary.BigEndian.PutUint32(h[4:8], 1)
	binary.BigEndian.PutUint32(h[8:12], length)
	return h
}

func TestLaneConnSendsHeaderAndBodyInOneWrite(t *testing.T) {
	tests := []struct {
		name   string
		writes [][]byte
		want   [][]byte // what reaches the socket, write by write
	}{
		{
			"data frame: header held until its body",
			[][]byte{yamuxHeader(yamuxTypeData, 5), []byte("hello")},
			[][]byte{append(yamuxHeader(yamuxTypeData, 5), "hello"...)},
		},
		{
			"window update: no body, written at once",
			[][]byte{yamuxHeader(1, 4096)},
			[][]byte{yamuxHeader(1, 4096)},
		},
		{
			"empty data frame (FIN): written at once",
			[][]byte{yamuxHeader(yamuxTypeData, 0)},
			[][]byte{yamuxHeader(yamuxTypeData, 0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &writeLog{got: make(chan struct{}, 16)}
			c := newLaneConn(log, newSockConn(log), nil, time.Second)
			defer c.Close()
			for _, w := range tc.writes {
				if _, err := c.Write(w); err != nil {
					t.Fatal(err)
				}
			}
			var all []byte
			for _, w := range tc.want {
				all = append(all, w...)
			}
			deadline := time.After(5 * time.Second)
			for {
				log.mu.Lock()
				var got []byte
				for _, w := range log.writes {
					got = append(got, w...)
				}
				n := len(log.writes)
				log.mu.Unlock()
				if len(got) >= len(all) {
					if !bytes.Equal(got, all) || n != len(tc.want) {
						t.Fatalf("socket got %d writes %x, want %d writes %x", n, got, len(tc.want), all)
					}
					return
				}
				select {
				case <-log.got:
				case <-deadline:
					t.Fatalf("the bytes never reached the socket: got %x, want %x", got, all)
				}
			}
		})
	}
}
