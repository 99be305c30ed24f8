#!/usr/bin/env python3
"""A meshsplit mesh client in Python, standard library only.

It is written from docs/protocol.md (the wire format), docs/runtime.md and
yamux's spec.md, and reads top to bottom in the order a connection goes:

  1. wire primitives (protocol.md, "Notation")
  2. the codec of messages (section 4.1) and the error envelope (4.2)
  3. the handshake: preamble, hello, verdict (section 2; plain mode only)
  4. a yamux session (spec.md) and what a peer owes the node (section 1.1)
  5. the fast path: 'R' streams of frames (section 3)
  6. the HTTP path: 'H' streams carrying HTTP/1.1 (section 5)
  7. membership: the 'G' streams the node opens (section 6)
  8. MeshClient, which ties them together, and a small command line

Plain mode (preamble mode 0: no cluster key, no TLS), which a node accepts
on loopback addresses, and key mode (mode 1: TLS 1.3 with certificates
derived from the cluster key), whose HKDF, Ed25519 and X.509 are in
keymode.py. Not tls+key mode: its proof needs the TLS exporter that Python's
ssl module lacks; nor TLS mode (the operator's certificates), which would be
an ssl context away.

Command line (MESHRPC_CLUSTER_KEY set: key mode):
  meshclient.py HOST:PORT heartbeat
  meshclient.py HOST:PORT call SERVICE METHOD '{"param": value}'   (HTTP path)
"""

import http.client
import io
import json
import os
import socket
import struct
import sys
import threading

# ---------------------------------------------------------------------------
# 1. Wire primitives: uvarint (LEB128, Go's PutUvarint), zig-zag varint (Go's
#    PutVarint), str/bytes (uvarint length + bytes), big-endian u8/u32/u64.
# ---------------------------------------------------------------------------


def uvarint(n):
    """The unsigned LEB128 encoding of n >= 0."""
    if n < 0:
        raise ValueError("uvarint of a negative number")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varint(n):
    """A signed int, zig-zag encoded (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...)."""
    return uvarint((n << 1) if n >= 0 else ((-n) << 1) - 1)


def wire_str(s):
    """A str: uvarint byte length, then the UTF-8 bytes."""
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return uvarint(len(b)) + b


class WireError(Exception):
    """Bytes that do not decode as the protocol says."""


class Reader:
    """Reads the fields above from a bytes value, left to right."""

    def __init__(self, data):
        self.data = bytes(data)
        self.off = 0

    def left(self):
        return len(self.data) - self.off

    def take(self, n):
        if n < 0 or n > self.left():
            raise WireError(f"want {n} bytes at offset {self.off}, {self.left()} left")
        b = self.data[self.off:self.off + n]
        self.off += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def uvarint(self):
        n = shift = 0
        while True:
            c = self.u8()
            n |= (c & 0x7F) << shift
            if c < 0x80:
                return n
            shift += 7
            if shift > 63:
                raise WireError("uvarint longer than 10 bytes")

    def varint(self):
        u = self.uvarint()
        return (u >> 1) if u & 1 == 0 else -((u + 1) >> 1)

    def bytes_(self):
        return self.take(self.uvarint())

    def str_(self):
        return self.bytes_().decode("utf-8")

    def rest(self):
        return self.take(self.left())

    def end(self):
        """A message is exactly its fields: bytes left over are an error."""
        if self.left():
            raise WireError(f"{self.left()} trailing bytes after the message's last field")


# ---------------------------------------------------------------------------
# 2. Messages (section 4.1): the fields of a method's parameters (request) or
#    results (response), in declaration order, no names, no type tags.
#    Generated code in Go writes one encoder and decoder per message; here a
#    caller composes these functions the same way (see scenario.py).
# ---------------------------------------------------------------------------


class Encoder:
    """Appends values in the mesh codec (runtime/codec.go)."""

    def __init__(self):
        self.buf = bytearray()

    def bool(self, v):
        self.buf.append(1 if v else 0)

    def int(self, v):  # int, int8 ... int64, time.Duration: zig-zag varint
        self.buf += varint(v)

    def uint(self, v):  # uint ... uint64: uvarint
        self.buf += uvarint(v)

    def float64(self, v):  # float32 and float64: 8 bytes little-endian
        self.buf += struct.pack("<d", v)

    def string(self, v):
        self.buf += wire_str(v)

    def length(self, n):
        """A slice or map length: uvarint of n+1; None (a nil slice) is 0."""
        self.buf += uvarint(0 if n is None else n + 1)

    def byte_slice(self, v):  # []byte: length as for slices, then the bytes
        self.length(None if v is None else len(v))
        if v is not None:
            self.buf += v

    def present(self, is_set):  # a pointer: 1 byte, 0 nil, 1 set; then the value
        self.bool(is_set)

    def time(self, t):
        """A time.Time, given as a dict: unix (seconds), nanos (0-999999999),
        zone ("UTC", "Local" or a zone name) and offset (seconds east of UTC).
        Zone byte 0 UTC; 1 Local, then the offset; 2 named, then str name
        and the offset. The offset is a signed int (zig-zag varint)."""
        self.int(t["unix"])
        self.uint(t["nanos"])
        if t["zone"] == "UTC":
            self.buf.append(0)
            return
        if t["zone"] == "Local":
            self.buf.append(1)
        else:
            self.buf.append(2)
            self.string(t["zone"])
        self.int(t["offset"])

    def slice(self, items, put):
        """A slice: its length, then each element written by put(enc, item)."""
        self.length(None if items is None else len(items))
        for item in items or ():
            put(self, item)

    def bytes(self):
        return bytes(self.buf)


class Decoder(Reader):
    """Reads values written by an Encoder (or by Go's generated code)."""

    def bool(self):
        b = self.u8()
        if b > 1:
            raise WireError(f"bool byte {b}")
        return b == 1

    int = Reader.varint
    uint = Reader.uvarint

    def float64(self):
        return struct.unpack("<d", self.take(8))[0]

    string = Reader.str_

    def length(self):
        """A slice or map length; None for a nil slice."""
        v = self.uvarint()
        if v == 0:
            return None
        if v - 1 > self.left():  # every element takes at least one byte
            raise WireError(f"length {v - 1} exceeds the {self.left()} bytes left")
        return v - 1

    def byte_slice(self):
        n = self.length()
        return None if n is None else self.take(n)

    def present(self):
        return self.bool()

    def time(self):
        """A time.Time as the dict Encoder.time takes."""
        t = {"unix": self.int(), "nanos": self.uint()}
        zone = self.u8()
        if zone == 0:
            return {**t, "zone": "UTC", "offset": 0}
        if zone == 1:
            return {**t, "zone": "Local", "offset": self.int()}
        if zone == 2:
            name = self.string()
            return {**t, "zone": name, "offset": self.int()}
        raise WireError(f"time zone byte {zone}")

    def slice(self, get):
        """A slice whose elements get(dec) reads; None for a nil slice."""
        n = self.length()
        return None if n is None else [get(self) for _ in range(n)]


# The error envelope (section 4.2) is what a response with status 1 (the
# method returned an error) carries before the response message.

ENVELOPE_SENTINEL, ENVELOPE_TYPED, ENVELOPE_GENERAL = 1, 2, 3


class RemoteError(Exception):
    """The method's own error, as the envelope describes it.

    form 1: `name` is the registered sentinel returned as is;
    form 2: `name` and `value` (decoded JSON) are the registered error type;
    form 3: `sentinels` and `types` ({name: value}) are what it wraps.
    """

    def __init__(self, form, message, name="", value=None, sentinels=(), types=None):
        super().__init__(message)
        self.form, self.message, self.name, self.value = form, message, name, value
        self.sentinels, self.types = list(sentinels), dict(types or {})
        self.results = None  # the response message, decoded, when it had one

    def is_(self, sentinel_name):
        """errors.Is against a registered sentinel, by name."""
        return sentinel_name == self.name or sentinel_name in self.sentinels

    def as_dict(self):
        return {"form": self.form, "message": self.message, "name": self.name,
                "value": self.value, "sentinels": self.sentinels, "types": self.types}


def decode_envelope(r):
    form = r.u8()
    message = r.str_()
    if form == ENVELOPE_SENTINEL:
        return RemoteError(form, message, name=r.str_())
    if form == ENVELOPE_TYPED:
        name = r.str_()
        return RemoteError(form, message, name=name, value=json.loads(r.bytes_()))
    if form == ENVELOPE_GENERAL:
        sentinels = [r.str_() for _ in range(r.uvarint())]
        types = {}
        for _ in range(r.uvarint()):
            name = r.str_()
            types[name] = json.loads(r.bytes_())
        return RemoteError(form, message, sentinels=sentinels, types=types)
    raise WireError(f"error envelope form {form}")


# ---------------------------------------------------------------------------
# 3. Handshake (section 2): preamble, then in key mode TLS, then hello and
#    verdict (inside TLS when there is TLS). Both sides write without waiting
#    for the other.
# ---------------------------------------------------------------------------

MAGIC, VERSION, MODE_PLAIN, MODE_KEY = b"MSHR", 3, 0, 1


class HandshakeError(Exception):
    """The node refused the connection, or does not speak the protocol."""


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def read_uvarint_str(sock, limit):
    """A str read byte by byte from the socket, so nothing of yamux is read ahead."""
    n = shift = 0
    while True:
        c = read_exact(sock, 1)[0]
        n |= (c & 0x7F) << shift
        if c < 0x80:
            break
        shift += 7
    if n > limit:
        raise HandshakeError(f"handshake field of {n} bytes over {limit}")
    return read_exact(sock, n).decode("utf-8", "replace")


def handshake(sock, node_id, addr="", cluster_key=None):
    """Runs the handshake, in plain mode or, given the cluster key, key
    mode. Returns the connection to run yamux on (sock, or TLS over it)
    and the node's (id, addr)."""
    # 2.1 preamble: "MSHR", version 2, the mode (0 plain, 1 key), each way.
    mode = MODE_PLAIN if cluster_key is None else MODE_KEY
    sock.sendall(MAGIC + bytes([VERSION, mode]))
    theirs = read_exact(sock, 6)
    if theirs[:4] != MAGIC:
        raise HandshakeError(f"not a meshsplit node (magic {theirs[:4]!r})")
    if theirs[4] != VERSION:
        raise HandshakeError(f"protocol version {theirs[4]}, this client speaks {VERSION}")
    if theirs[5] != mode:
        raise HandshakeError(f"security mismatch: the node uses mode {theirs[5]}, this client {mode}")
    # 2.2 key mode: TLS 1.3 with certificates of the CA derived from the
    # key (keymode.py); everything after it goes through TLS.
    cert_id = None
    if mode == MODE_KEY:
        import keymode
        sock = keymode.TLSChannel(sock, keymode.client_context(cluster_key, node_id))
        cert_id = keymode.peer_node_id(sock)
    # 2.4 hello: str id, str addr ("" for a caller-only client).
    sock.sendall(wire_str(node_id) + wire_str(addr))
    peer_id = read_uvarint_str(sock, 256)
    peer_addr = read_uvarint_str(sock, 1024)
    if cert_id is not None and cert_id != peer_id:
        sock.sendall(b"\x01" + wire_str(f"the peer claims node id {peer_id!r} but its certificate is for {cert_id!r}"))
        raise HandshakeError(f"node {peer_id} presented a certificate for {cert_id}")
    # Verdict: 00 accepted, or 01 + str reason. Ours first, then theirs.
    sock.sendall(b"\x00")
    if read_exact(sock, 1) != b"\x00":
        raise HandshakeError(f"refused by node {peer_id}: {read_uvarint_str(sock, 1024)}")
    return sock, peer_id, peer_addr


# ---------------------------------------------------------------------------
# 4. yamux (spec.md): 12-byte frame headers over the connection.
#    version u8 (0), type u8, flags u16, stream id u32, length u32.
#    The client (the dialer: us) opens odd stream ids, the node even ones.
# ---------------------------------------------------------------------------

TYPE_DATA, TYPE_WINDOW_UPDATE, TYPE_PING, TYPE_GO_AWAY = 0, 1, 2, 3
FLAG_SYN, FLAG_ACK, FLAG_FIN, FLAG_RST = 1, 2, 4, 8
INITIAL_WINDOW = 256 * 1024  # every stream starts with it, both directions
HEADER = struct.Struct(">BBHII")


class SessionClosed(Exception):
    """The yamux session (and so the connection) ended."""


class Stream:
    """One yamux stream: a byte pipe each way with its own flow control."""

    def __init__(self, session, sid):
        self.session, self.id = session, sid
        self.cond = threading.Condition(session.lock)
        self.inbox = bytearray()      # received, not yet read
        self.send_window = INITIAL_WINDOW
        self.unacked = 0              # bytes read but not yet granted back
        self.fin_received = self.reset = False

    def write(self, data):
        """Sends data in Data frames, never more than the node's window allows."""
        data = memoryview(bytes(data))
        while data:
            with self.cond:
                while self.send_window == 0 and not (self.reset or self.session.closed):
                    self.cond.wait()
                if self.reset or self.session.closed:
                    raise SessionClosed(f"stream {self.id} reset or session closed")
                n = min(len(data), self.send_window, 64 * 1024)
                self.send_window -= n
            self.session.send(TYPE_DATA, 0, self.id, n, data[:n])
            data = data[n:]

    def read(self, limit=65536):
        """Up to limit bytes; b"" once the node closed its side (FIN)."""
        with self.cond:
            while not self.inbox and not (self.fin_received or self.reset or self.session.closed):
                self.cond.wait()
            if not self.inbox and (self.reset or (self.session.closed and not self.fin_received)):
                raise SessionClosed(f"stream {self.id} reset or session closed")
            out = bytes(self.inbox[:limit])
            del self.inbox[:limit]
            self.unacked += len(out)
            grant = self.unacked if self.unacked >= INITIAL_WINDOW // 2 else 0
            if grant:
                self.unacked = 0
        if grant:  # give the node back the window we consumed
            self.session.send(TYPE_WINDOW_UPDATE, 0, self.id, grant)
        return out

    def read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.read(n - len(buf))
            if not chunk:
                raise EOFError(f"stream {self.id} closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def wait_closed(self, timeout_s):
        """Whether the node closed or reset the stream within timeout_s."""
        with self.cond:
            return self.cond.wait_for(lambda: self.fin_received or self.reset or self.session.closed, timeout_s)

    def close(self):
        """Half-closes our side (FIN)."""
        self.session.send(TYPE_WINDOW_UPDATE, FLAG_FIN, self.id, 0)


class Session:
    """A yamux client session over a connected, handshaken socket.

    A reader thread does everything the node expects of a peer at once
    (protocol.md 1.1): it answers pings, acknowledges the streams the node
    opens and drains them, and hands Data and Window Update frames to the
    streams this client opened.
    """

    def __init__(self, sock, on_incoming=None, answer_pings=True):
        self.sock = sock
        self.lock = threading.Lock()        # guards the stream tables
        self.write_lock = threading.Lock()  # one frame at a time on the socket
        self.streams = {}                   # id -> Stream, the ones we opened
        self.incoming = {}                  # id -> bytearray, the ones the node opened
        self.next_id = 1
        self.closed = False
        self.close_reason = ""
        self.closed_event = threading.Event()
        self.on_incoming = on_incoming      # called with (stream id, bytes) at FIN
        self.answer_pings = answer_pings    # False only to show the node drops us
        self.pings_answered = 0
        self.reader = threading.Thread(target=self._read_loop, name="yamux-reader", daemon=True)
        self.reader.start()

    def send(self, typ, flags, sid, length, payload=b""):
        frame = HEADER.pack(0, typ, flags, sid, length) + bytes(payload)
        with self.write_lock:
            try:
                self.sock.sendall(frame)
            except OSError as e:
                self._close(f"write failed: {e}")
                raise SessionClosed(self.close_reason) from e

    def open_stream(self, kind):
        """Opens a stream (SYN on a Window Update) and writes its kind byte."""
        with self.lock:
            if self.closed:
                raise SessionClosed(self.close_reason)
            sid, self.next_id = self.next_id, self.next_id + 2
            st = self.streams[sid] = Stream(self, sid)
        self.send(TYPE_WINDOW_UPDATE, FLAG_SYN, sid, 0)
        st.write(kind)
        return st

    def close(self):
        if not self.closed:
            try:
                self.send(TYPE_GO_AWAY, 0, 0, 0)
            except SessionClosed:
                pass
        self._close("closed by this client")
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
            self.sock.close()
        except OSError:
            pass
        self.reader.join(timeout=5)

    def _close(self, reason):
        with self.lock:
            if self.closed:
                return
            self.closed, self.close_reason = True, reason
            for st in self.streams.values():
                st.cond.notify_all()
        self.closed_event.set()

    def _read_loop(self):
        try:
            while True:
                version, typ, flags, sid, length = HEADER.unpack(read_exact(self.sock, HEADER.size))
                if version != 0:
                    raise WireError(f"yamux version {version}")
                payload = read_exact(self.sock, length) if typ == TYPE_DATA else b""
                if typ == TYPE_PING:
                    self._on_ping(flags, length)
                elif typ == TYPE_GO_AWAY:
                    self._close(f"go away from the node (code {length})")
                    return
                elif sid % 2 == 0:
                    self._on_incoming(typ, flags, sid, length, payload)
                else:
                    self._on_ours(typ, flags, sid, length, payload)
        except (OSError, EOFError, WireError, SessionClosed) as e:
            self._close(f"connection ended: {e}")
        except Exception as e:  # a bug here must not leave a session that looks alive
            self._close(f"reader failed: {type(e).__name__}: {e}")
            raise

    def _on_ping(self, flags, opaque):
        # A ping with SYN wants the same opaque value back with ACK, within
        # the node's LivenessTimeout, or the node closes the session.
        if flags & FLAG_SYN and self.answer_pings:
            self.send(TYPE_PING, FLAG_ACK, 0, opaque)
            self.pings_answered += 1

    def _on_ours(self, typ, flags, sid, length, payload):
        with self.lock:
            st = self.streams.get(sid)
            if st is None:
                return  # a stream we already forgot; its late frames are dropped
            if typ == TYPE_WINDOW_UPDATE:
                st.send_window += length
            else:
                st.inbox += payload
            if flags & FLAG_FIN:
                st.fin_received = True
            if flags & FLAG_RST:
                st.reset = True
            st.cond.notify_all()

    def _on_incoming(self, typ, flags, sid, length, payload):
        # The node opened this stream: acknowledge it at once (an 'R' or
        # 'H' stream left unacknowledged for LivenessTimeout would close the
        # session), keep its bytes, and at its FIN hand them over and close
        # our side too (or the node resets it after LivenessTimeout).
        if flags & FLAG_SYN:
            self.incoming[sid] = bytearray()
            self.send(TYPE_WINDOW_UPDATE, FLAG_ACK, sid, 0)
        buf = self.incoming.get(sid)
        if buf is None:
            return
        if payload:
            buf += payload
            # The bytes are consumed at once: grant the window back.
            self.send(TYPE_WINDOW_UPDATE, 0, sid, len(payload))
        if len(buf) > (4 << 20) + 5:  # larger than any gossip message: refuse it
            del self.incoming[sid]
            self.send(TYPE_WINDOW_UPDATE, FLAG_RST, sid, 0)
            return
        if flags & FLAG_RST:
            del self.incoming[sid]
        elif flags & FLAG_FIN:
            del self.incoming[sid]
            self.send(TYPE_WINDOW_UPDATE, FLAG_FIN, sid, 0)
            if self.on_incoming:
                self.on_incoming(sid, bytes(buf))

    def forget(self, st):
        with self.lock:
            self.streams.pop(st.id, None)


# ---------------------------------------------------------------------------
# 5. Fast path (section 3): after the kind byte 'R', frames both ways:
#    length u32 (bytes after it), kind u8, call id u64, payload.
# ---------------------------------------------------------------------------

FRAME_REQUEST, FRAME_RESPONSE, FRAME_CANCEL = 1, 2, 3
STATUS_OK, STATUS_APP_ERROR, STATUS_PROTOCOL = 0, 1, 2
STATUS_HAS_METADATA = 0x80  # bit of the status byte: metadata follows (section 3.2)
PROTOCOL_CODES = {1: "unknown_service", 2: "version_skew", 3: "too_large", 4: "malformed",
                  5: "panic", 6: "unavailable", 7: "internal"}


class ProtocolError(Exception):
    """The mesh refused or failed the call (status 2): code and text."""

    def __init__(self, code, text):
        super().__init__(f"{PROTOCOL_CODES.get(code, code)}: {text}")
        self.code, self.name, self.text = code, PROTOCOL_CODES.get(code, str(code)), text


def metadata(md):
    """Call metadata (section 3.2): a count, then each key and value as str.
    Keys are lower case; this client sends none unless asked to."""
    out = uvarint(len(md))
    for key, value in md.items():
        out += wire_str(key) + wire_str(value)
    return out


def read_metadata(r):
    """Reads call metadata (section 3.2) into a dict."""
    md = {}
    for _ in range(r.uvarint()):
        key = r.str_()
        md[key] = r.str_()
    return md


def request_header(service, method_index, fingerprint, timeout_ns, md=None):
    """The request payload before the message (section 3, "Request")."""
    return (wire_str(service) + uvarint(method_index) + wire_str(fingerprint)
            + uvarint(timeout_ns) + metadata(md or {}))


def response_header(r):
    """Reads the response payload's header (section 3, "Response"): the status,
    and for status 1 the error envelope, for status 2 the protocol error.
    Returns (status, RemoteError or ProtocolError or None); the response
    message follows in r for statuses 0 and 1."""
    status = r.u8()
    if status & STATUS_HAS_METADATA:  # metadata follows the status (section 3.2)
        status &= ~STATUS_HAS_METADATA
        read_metadata(r)
    if status == STATUS_OK:
        return status, None
    if status == STATUS_APP_ERROR:
        return status, decode_envelope(Reader(r.bytes_()))
    if status == STATUS_PROTOCOL:
        code = r.u8()
        return status, ProtocolError(code, r.str_())
    raise WireError(f"response status {status}")


def frame(kind, call_id, payload):
    return struct.pack(">IBQ", 1 + 8 + len(payload), kind, call_id) + payload


class FastPath:
    """One 'R' stream. Many calls may be in flight on it, told apart by call
    id; responses come in any order. This client uses it from one thread at
    a time: send a request, maybe a cancel, then wait for the response."""

    def __init__(self, session):
        self.stream = session.open_stream(b"R")
        self.next_call = 1
        self.arrived = {}  # call id -> response payload read while waiting for another
        self.lock = threading.Lock()

    def send_request(self, service, method_index, fingerprint, message, timeout_s=0.0):
        """Sends a request frame; returns its call id."""
        with self.lock:
            call_id, self.next_call = self.next_call, self.next_call + 1
            payload = request_header(service, method_index, fingerprint, int(timeout_s * 1e9))
            self.stream.write(frame(FRAME_REQUEST, call_id, payload + message))
            return call_id

    def send_cancel(self, call_id):
        """Cancels a call in flight (the server cancels its context); its
        response still comes."""
        with self.lock:
            self.stream.write(frame(FRAME_CANCEL, call_id, b""))

    def wait_response(self, call_id):
        """The payload of call_id's response frame."""
        with self.lock:
            while call_id not in self.arrived:
                length, kind, got_id = struct.unpack(">IBQ", self.stream.read_exact(13))
                body = self.stream.read_exact(length - 9)
                if kind == FRAME_RESPONSE:
                    self.arrived[got_id] = body
            return self.arrived.pop(call_id)

    def call_raw(self, service, method_index, fingerprint, message, timeout_s=0.0):
        """Sends one request and returns its response payload."""
        return self.wait_response(self.send_request(service, method_index, fingerprint, message, timeout_s))

    def call(self, method, encode, decode, timeout_s=0.0, fingerprint=None, extra=b"", cancel=False):
        """Calls method (a Method from the heartbeat): encode(enc) writes the
        parameters, decode(dec) reads the results. Returns the results, or
        raises RemoteError (with .results set) or ProtocolError. Only to
        provoke the node's refusals: fingerprint replaces the method's,
        extra is appended after the message; cancel sends a cancel frame
        right after the request."""
        enc = Encoder()
        encode(enc)
        call_id = self.send_request(method.service, method.index, fingerprint or method.fingerprint,
                                    enc.bytes() + extra, timeout_s)
        if cancel:
            self.send_cancel(call_id)
        return decode_response(self.wait_response(call_id), decode)


def decode_response(body, decode):
    """The results of a response payload, or the error it carries."""
    r = Decoder(body)
    status, err = response_header(r)
    if status == STATUS_PROTOCOL:
        raise err
    # Status 1's message is empty when the server had no results to send.
    results = decode(r) if (status == STATUS_OK or r.left()) else None
    r.end()
    if err is not None:
        err.results = results
        raise err
    return results


# ---------------------------------------------------------------------------
# 6. HTTP path (section 5): an 'H' stream is an HTTP/1.1 connection, so
#    Python's own http.client runs over it once the stream looks like a socket.
# ---------------------------------------------------------------------------


class _StreamFile(io.RawIOBase):
    def __init__(self, stream):
        self.stream = stream

    def readable(self):
        return True

    def readinto(self, b):
        data = self.stream.read(len(b))
        b[:len(data)] = data
        return len(data)


class _StreamSocket:
    """The two things http.client asks of a socket."""

    def __init__(self, stream):
        self.stream = stream

    def sendall(self, data):
        self.stream.write(data)

    def makefile(self, mode):
        return io.BufferedReader(_StreamFile(self.stream))

    def close(self):
        self.stream.close()


class HTTPPath(http.client.HTTPConnection):
    """An HTTP/1.1 keep-alive connection over one 'H' stream of the session."""

    def __init__(self, session):
        super().__init__("mesh")  # the host name is not used by the node
        self.session = session

    def connect(self):
        self.sock = _StreamSocket(self.session.open_stream(b"H"))

    def request_json(self, method, path, body=None, headers=None):
        """Returns (HTTP status, decoded JSON body or text)."""
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        self.request(method, path, body=data, headers=hdrs)
        resp = self.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")


class Method:
    """What a fast-path call needs of a method, read from the heartbeat
    (protocol.md 3.1): the full service name, the method's index in the
    service's methods sorted by name, and its fingerprint."""

    def __init__(self, service, index, info):
        self.service, self.index = service, index
        self.name, self.fingerprint = info["name"], info["fingerprint"]
        self.params, self.results = info.get("params", []), info.get("results", [])
        self.param_types, self.result_types = info.get("param_types", []), info.get("result_types", [])


def methods_of(heartbeat):
    """{(service, method name): Method} from a heartbeat's services. A
    method's index is its position in its service's list, which the node
    sorts by name in byte order."""
    out = {}
    for svc in heartbeat.get("services", []):
        names = [m["name"].encode() for m in svc.get("methods", [])]
        if names != sorted(names):
            raise WireError(f"methods of {svc['name']} not sorted by name: {names}")
        for i, m in enumerate(svc.get("methods", [])):
            out[(svc["name"], m["name"])] = Method(svc["name"], i, m)
    return out


# ---------------------------------------------------------------------------
# 7. Membership (section 6): the node opens 'G' streams to us; each carries
#    u32 length + JSON. We keep the latest one; a caller-only client sends none.
# ---------------------------------------------------------------------------


def decode_gossip(data):
    """The JSON of a 'G' stream's bytes (kind byte included), or None."""
    if len(data) < 5 or data[:1] != b"G":
        return None
    n = struct.unpack(">I", data[1:5])[0]
    if len(data) != 5 + n:
        raise WireError(f"gossip message of {len(data) - 5} bytes, its length says {n}")
    return json.loads(data[5:])


# ---------------------------------------------------------------------------
# 8. The client: dial, handshake, session; then HTTP and fast-path calls.
# ---------------------------------------------------------------------------


class MeshClient:
    """A caller-only peer of one node, in plain mode."""

    def __init__(self, host, port, node_id=None, cluster_key=None, timeout_s=5.0, answer_pings=True):
        self.node_id = node_id or os.urandom(8).hex()
        sock = socket.create_connection((host, port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The handshake must end within the node's dial timeout (5s).
        sock, self.peer_id, self.peer_addr = handshake(sock, self.node_id, cluster_key=cluster_key)
        sock.settimeout(None)  # from here the session's pings keep it alive
        self.gossip = []       # decoded membership messages, oldest first
        self.gossip_lock = threading.Lock()
        self.session = Session(sock, on_incoming=self._incoming, answer_pings=answer_pings)
        self._http = None
        self._fast = None

    def _incoming(self, sid, data):
        try:
            msg = decode_gossip(data)
        except (ValueError, WireError):
            return  # a malformed message is ignored, as a node ignores one
        if msg is not None:
            with self.gossip_lock:
                self.gossip.append(msg)

    def http(self):
        if self._http is None:
            self._http = HTTPPath(self.session)
        return self._http

    def fast(self):
        if self._fast is None:
            self._fast = FastPath(self.session)
        return self._fast

    def heartbeat(self):
        status, body = self.http().request_json("GET", "/__heartbeat__")
        if status != 200:
            raise WireError(f"heartbeat: HTTP {status}: {body}")
        return body

    def call_json(self, service, method, params, timeout=None):
        """POST /<service>/<method> with the parameters keyed by name;
        returns (HTTP status, JSON body)."""
        headers = {"Meshrpc-Timeout": timeout} if timeout else None
        return self.http().request_json("POST", f"/{service}/{method}", params, headers)

    def close(self):
        self.session.close()


def main(argv):
    if len(argv) < 3 or argv[2] not in ("heartbeat", "call"):
        print(__doc__.split("Command line:")[1], file=sys.stderr)
        return 2
    host, _, port = argv[1].rpartition(":")
    key = os.environ.get("MESHRPC_CLUSTER_KEY")
    client = MeshClient(host or "127.0.0.1", int(port), cluster_key=key.encode() if key else None)
    try:
        if argv[2] == "heartbeat":
            print(json.dumps(client.heartbeat(), indent=2))
            return 0
        if len(argv) != 6:
            print("usage: meshclient.py HOST:PORT call SERVICE METHOD JSON", file=sys.stderr)
            return 2
        status, body = client.call_json(argv[3], argv[4], json.loads(argv[5]))
        print(json.dumps(body, indent=2))
        return 0 if status == 200 else 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
