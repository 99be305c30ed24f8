#!/usr/bin/env python3
"""The scenario runtime/pyclient_test.go runs against a real node.

The node publishes the runtime tests' greeter (example.com/test/greet.Greeter,
runtime/greeter_test.go) and a stock service (example.com/test/stock.Stock,
runtime/pyclient_test.go). This script calls them through meshclient.py and
prints one JSON object per line, {"step": name, ...what it saw...}; the Go
test compares each with what the protocol says it must be. A step that
raises prints {"step": name, "exception": text} and the scenario goes on.

  scenario.py --addr HOST:PORT [--key KEY] [--idle SECONDS]   the full scenario
  scenario.py --addr HOST:PORT --no-pings WAIT   connect, answer no pings,
                                                 report when the node drops us
  scenario.py --addr HOST:PORT --key KEY --connect-only
                                                 report whether the node accepts us

--key runs key mode (TLS 1.3, certificates derived from the cluster key
KEY, its UTF-8 bytes as given: keymode.py); without it, plain mode.
"""

import argparse
import json
import struct
import sys
import time

import meshclient as mc

GREETER = "example.com/test/greet.Greeter"
STOCK = "example.com/test/stock.Stock"


def report(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


def step(name, fn):
    try:
        fn()
    except Exception as e:  # reported, and the Go test fails on it
        report(name, exception=f"{type(e).__name__}: {e}")


# Encoders and decoders of the two services' messages, the way Go's generated
# code writes them (section 4.1): the parameters, then the results, in order.

def put_string(s):
    return lambda enc: enc.string(s)


def get_string(dec):
    return dec.string()


def get_int(dec):
    return dec.int()


# A stock item: struct {SKU string; Qty int; Tags []string; Price float64;
# Fresh bool; Note *string} - its fields in declaration order.

def put_item(enc, it):
    enc.string(it["sku"])
    enc.int(it["qty"])
    enc.slice(it["tags"], lambda e, tag: e.string(tag))
    enc.float64(it["price"])
    enc.bool(it["fresh"])
    enc.present(it["note"] is not None)
    if it["note"] is not None:
        enc.string(it["note"])


def get_item(dec):
    return {"sku": dec.string(), "qty": dec.int(), "tags": dec.slice(get_string),
            "price": dec.float64(), "fresh": dec.bool(),
            "note": dec.string() if dec.present() else None}


def put_restock(items, add):
    def put(enc):
        enc.slice(items, put_item)  # items []Item
        enc.int(add)                # add int
    return put


def get_restock(dec):
    return {"out": dec.slice(get_item), "total": dec.int()}  # (out []Item, total int, err error)


def fast_call(client, methods, service, name, encode, decode, **kw):
    """A fast-path call, reported as {"result": ...} or the error it raised."""
    try:
        return {"result": client.fast().call(methods[(service, name)], encode, decode, **kw)}
    except mc.RemoteError as e:
        return {"remote_error": e.as_dict(), "result": e.results}
    except mc.ProtocolError as e:
        return {"protocol_error": {"code": e.code, "name": e.name, "text": e.text}}


def connect(args, **kw):
    host, _, port = args.addr.rpartition(":")
    key = None if args.key is None else args.key.encode()
    return mc.MeshClient(host, int(port), cluster_key=key, **kw)


def full(args):
    client = connect(args)
    report("handshake", peer_id=client.peer_id, peer_addr=client.peer_addr)

    hb = client.heartbeat()
    methods = mc.methods_of(hb)
    report("heartbeat", peers=hb["peers"], methods={
        f"{svc.rsplit('.', 1)[1]}.{m.name}": {
            "index": m.index, "fingerprint": m.fingerprint, "params": m.params,
            "param_types": m.param_types, "results": m.results, "result_types": m.result_types}
        for (svc, _), m in sorted(methods.items())})

    # The HTTP path: JSON keyed by parameter names, results keyed by result names.
    def http(name, service, method, params, **kw):
        status, body = client.call_json(service, method, params, **kw)
        report(name, status=status, body=body)

    step("http Greet", lambda: http("http Greet", GREETER, "Greet", {"name": "Max"}))
    step("http Greet by suffix", lambda: http("http Greet by suffix", "greet.Greeter", "Greet", {"name": "Ann"}))
    step("http Fail sentinel", lambda: http("http Fail sentinel", GREETER, "Fail", {"kind": "sentinel"}))
    step("http Restock", lambda: http("http Restock", STOCK, "Restock", {
        "items": [{"sku": "A1", "qty": 2, "tags": ["x"], "price": 1.5, "fresh": True, "note": None}],
        "add": 3}))

    # The fast path: binary frames on an 'R' stream.
    def fast(name, service, method, encode, decode, **kw):
        report(name, **fast_call(client, methods, service, method, encode, decode, **kw))

    calls = [
        ("fast Greet", GREETER, "Greet", put_string("Max"), get_string, {}),
        ("fast Greet utf8", GREETER, "Greet", put_string("Zoë ☃"), get_string, {}),
        ("fast Echo bytes", GREETER, "Echo", lambda e: e.byte_slice(b"\x00\x01\xff"),
         lambda d: list(d.byte_slice()), {}),
        ("fast Echo nil", GREETER, "Echo", lambda e: e.byte_slice(None), lambda d: d.byte_slice(), {}),
        ("fast Fail ok", GREETER, "Fail", put_string("ok"), get_int, {}),
        ("fast Fail sentinel", GREETER, "Fail", put_string("sentinel"), get_int, {}),
        ("fast Fail wrapped", GREETER, "Fail", put_string("wrapped"), get_int, {}),
        ("fast Fail typed", GREETER, "Fail", put_string("typed"), get_int, {}),
        ("fast Fail wrapped-typed", GREETER, "Fail", put_string("wrapped-typed"), get_int, {}),
        ("fast Fail plain", GREETER, "Fail", put_string("plain"), get_int, {}),
        ("fast Restock", STOCK, "Restock", put_restock([
            {"sku": "A1", "qty": 2, "tags": ["red", "big"], "price": 2.25, "fresh": True, "note": "ünïcode"},
            {"sku": "B2", "qty": -70000, "tags": [], "price": -0.5, "fresh": False, "note": None},
            {"sku": "C3", "qty": 0, "tags": None, "price": 1e300, "fresh": True, "note": ""},
        ], 3), get_restock, {}),
        ("fast Restock nil", STOCK, "Restock", put_restock(None, 1), get_restock, {}),
        ("fast Sleep within deadline", GREETER, "Sleep", lambda e: e.int(20_000_000),
         lambda d: None, {"timeout_s": 5.0}),
        # Refusals: a fingerprint the node does not know, bytes after the
        # message, a message cut short, a service the node does not publish.
        ("fast version skew", GREETER, "Greet", put_string("Max"), get_string, {"fingerprint": "greet-0"}),
        ("fast trailing bytes", GREETER, "Greet", put_string("Max"), get_string, {"extra": b"\x00"}),
        ("fast truncated", GREETER, "Greet", lambda e: e.buf.extend(b"\x05Ma"), get_string, {}),
    ]
    # A time.Time in three zones: the node formats it (RFC 3339 and the
    # zone's name) and returns it an hour later.
    for zone, offset in (("UTC", 0), ("Local", -34200), ("XYZ", 3600)):
        at = {"unix": 1_700_000_000, "nanos": 123_456_789, "zone": zone, "offset": offset}
        calls.append((f"fast Describe {zone}", STOCK, "Describe", lambda e, at=at: e.time(at),
                      lambda d: {"text": d.string(), "later": d.time()}, {}))
    for name, service, method, encode, decode, kw in calls:
        step(name, lambda: fast(name, service, method, encode, decode, **kw))

    def unknown_service():
        m = methods[(GREETER, "Greet")]
        body = client.fast().call_raw("example.com/test/greet.Nobody", m.index, m.fingerprint,
                                      mc.wire_str("Max"))
        status, err = mc.response_header(mc.Reader(body))
        report("fast unknown service", status=status, code=err.code, name=err.name)
    step("fast unknown service", unknown_service)

    def short_frame():
        # A frame length under 9 (kind and call id) closes the stream at
        # once: the node does not wait for header bytes that never come.
        st = client.session.open_stream(b"R")
        st.write(struct.pack(">I", 3))
        report("fast short frame", closed=st.wait_closed(5.0))
        client.session.forget(st)
    step("fast short frame", short_frame)

    def cancelled():
        # A cancel frame right behind the request: the 10s sleep ends at
        # once on the server, with context.Canceled.
        start = time.monotonic()
        out = fast_call(client, methods, GREETER, "Sleep", lambda e: e.int(10_000_000_000),
                        lambda d: None, cancel=True)
        report("fast Sleep cancelled", elapsed_ms=round((time.monotonic() - start) * 1000), **out)
    step("fast Sleep cancelled", cancelled)

    def deadline():
        # The timeout travels in nanoseconds: 200ms against a 10s sleep.
        start = time.monotonic()
        out = fast_call(client, methods, GREETER, "Sleep", lambda e: e.int(10_000_000_000),
                        lambda d: None, timeout_s=0.2)
        report("fast Sleep past deadline", elapsed_ms=round((time.monotonic() - start) * 1000), **out)
    step("fast Sleep past deadline", deadline)

    # Idle for longer than the node's liveness timeout: the session lives
    # only if the reader thread answered the node's pings.
    pings_before = client.session.pings_answered
    time.sleep(args.idle)
    report("idle", seconds=args.idle, pings_answered=client.session.pings_answered - pings_before,
           closed=client.session.closed, reason=client.session.close_reason)
    step("after idle fast Greet", lambda: fast("after idle fast Greet", GREETER, "Greet",
                                               put_string("again"), get_string))

    def after_idle_http():
        status, body = client.http().request_json("GET", "/ping")
        hb = client.heartbeat()
        report("after idle http", status=status, body=body, peers=hb["peers"])
    step("after idle http", after_idle_http)

    with client.gossip_lock:
        msgs = list(client.gossip)
    last = msgs[-1] if msgs else {}
    report("gossip", messages=len(msgs), id=last.get("id"),
           services=sorted(s["name"] for s in last.get("self", {}).get("services", [])))
    client.close()
    return 0


def no_pings(args):
    """Answers no pings: the node must drop the session after its liveness timeout."""
    client = connect(args, answer_pings=False)
    start = time.monotonic()
    dropped = client.session.closed_event.wait(args.no_pings)
    report("no pings", dropped=dropped, after_ms=round((time.monotonic() - start) * 1000),
           reason=client.session.close_reason)
    client.close()
    return 0


def connect_only(args):
    """Connects and reports whether the handshake passed, and why not."""
    try:
        client = connect(args)
    except Exception as e:
        report("connect", accepted=False, error=f"{type(e).__name__}: {e}")
        return 0
    report("connect", accepted=True, peer_id=client.peer_id)
    client.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--addr", required=True, help="the node's HOST:PORT")
    p.add_argument("--idle", type=float, default=1.5, help="seconds to hold the session idle")
    p.add_argument("--no-pings", type=float, metavar="WAIT",
                   help="answer no pings and wait up to WAIT seconds to be dropped")
    p.add_argument("--key", help="the cluster key: key mode")
    p.add_argument("--connect-only", action="store_true", help="only connect, and report the outcome")
    args = p.parse_args()
    if args.connect_only:
        return connect_only(args)
    return no_pings(args) if args.no_pings else full(args)


if __name__ == "__main__":
    sys.exit(main())
