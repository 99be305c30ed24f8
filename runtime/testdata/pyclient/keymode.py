"""Key mode (docs/protocol.md 2.2) for meshclient.py, standard library only.

In key mode both ends run TLS 1.3 with certificates signed by a CA that every
holder of the cluster key derives on its own:

  seed   = HKDF-SHA256(key, salt "meshsplit cluster key v2", info "ed25519 cluster CA", 32 bytes)
  CA key = the Ed25519 key of that seed

Python's ssl module can use Ed25519 keys and certificates but cannot make
them, so this file has what it lacks: HKDF, Ed25519 key derivation and
signing (RFC 8032), and the few DER structures of an X.509 certificate. It
then makes a CA certificate (to verify the node's certificate) and a leaf
certificate for this client (URI SAN meshsplit://node/<id>, clientAuth), and
runs TLS through a memory BIO so that the session's reader and writer threads
never use the TLS object at the same time.

Nothing here is constant-time: it signs one certificate per connection with
a key that is ephemeral anyway, and with the CA key, which every holder of
the cluster key can derive. Do not reuse it where timing matters.
"""

import base64
import datetime
import hashlib
import hmac
import os
import ssl
import tempfile
import threading

# ---------------------------------------------------------------------------
# HKDF-SHA256 (RFC 5869)
# ---------------------------------------------------------------------------

SALT = b"meshsplit cluster key v2"


def hkdf_sha256(secret, salt, info, length=32):
    prk = hmac.new(salt, secret, hashlib.sha256).digest()  # extract
    out, block, i = b"", b"", 1
    while len(out) < length:                               # expand
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


# ---------------------------------------------------------------------------
# Ed25519 (RFC 8032): the curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255-19),
# points in extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z.
# ---------------------------------------------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the order of the base point
D = -121665 * pow(121666, P - 2, P) % P


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x & 1 != sign:
        x = P - x
    return x


_BY = 4 * pow(5, P - 2, P) % P
BASE = (_recover_x(_BY, 0), _BY, 1, _recover_x(_BY, 0) * _BY % P)
IDENTITY = (0, 1, 1, 0)


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(k, p):
    q = IDENTITY
    while k:
        if k & 1:
            q = _add(q, p)
        p = _add(p, p)
        k >>= 1
    return q


def _encode_point(p):
    x, y, z, _ = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


class Ed25519Key:
    """An Ed25519 private key from its 32-byte seed (the RFC's private key)."""

    def __init__(self, seed):
        self.seed = seed
        h = hashlib.sha512(seed).digest()
        a = int.from_bytes(h[:32], "little")
        a &= (1 << 254) - 8   # clear the 3 low bits and bit 255
        a |= 1 << 254         # set bit 254
        self.scalar, self.prefix = a, h[32:]
        self.public = _encode_point(_mul(a, BASE))

    def sign(self, msg):
        r = int.from_bytes(hashlib.sha512(self.prefix + msg).digest(), "little") % L
        big_r = _encode_point(_mul(r, BASE))
        k = int.from_bytes(hashlib.sha512(big_r + self.public + msg).digest(), "little") % L
        s = (r + k * self.scalar) % L
        return big_r + s.to_bytes(32, "little")


# ---------------------------------------------------------------------------
# DER (X.690): tag, length, contents.
# ---------------------------------------------------------------------------


def der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def seq(*items):
    return der(0x30, b"".join(items))


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        chunk = [v & 0x7F]
        while v > 0x7F:
            v >>= 7
            chunk.append(0x80 | (v & 0x7F))
        out += bytes(reversed(chunk))
    return der(0x06, out)


def integer(v):
    return der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))  # leading 0: positive


def bit_string(b):
    return der(0x03, b"\x00" + b)


def octet_string(b):
    return der(0x04, b)


def explicit(n, content):
    return der(0xA0 | n, content)


def name_cn(cn):
    """A Name of one CommonName, a PrintableString as Go's encoder writes
    it (the issuer of a leaf must equal the CA's subject byte for byte)."""
    return seq(der(0x31, seq(oid("2.5.4.3"), der(0x13, cn.encode("ascii")))))


def utc_time(t):
    if t.year < 2050:
        return der(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return der(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def extension(ext_oid, value, critical=False):
    return seq(oid(ext_oid), *([der(0x01, b"\xff")] if critical else []), octet_string(value))


ED25519 = seq(oid("1.3.101.112"))
SERVER_AUTH, CLIENT_AUTH = "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"


def certificate(serial, issuer, subject, not_before, not_after, public, extensions, signer):
    tbs = seq(explicit(0, integer(2)), integer(serial), ED25519, name_cn(issuer),
              seq(utc_time(not_before), utc_time(not_after)), name_cn(subject),
              seq(ED25519, bit_string(public)), explicit(3, seq(*extensions)))
    return seq(tbs, ED25519, bit_string(signer.sign(tbs)))


def private_key_pem(key):
    """PKCS #8 of an Ed25519 key, as ssl.load_cert_chain reads it."""
    body = seq(integer(0), ED25519, octet_string(octet_string(key.seed)))
    return b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(body) + b"-----END PRIVATE KEY-----\n"


def cert_pem(cert_der):
    return ssl.DER_cert_to_PEM_cert(cert_der).encode()


# ---------------------------------------------------------------------------
# The cluster CA and this client's certificate (protocol.md 2.2)
# ---------------------------------------------------------------------------

CA_NAME = "meshsplit cluster CA"


def cluster_ca(cluster_key):
    """The CA key and a CA certificate for it. The certificate is this
    client's own (a node's differs in its signature and extensions); it
    names the same subject, so the node's certificates chain to it. It
    carries no subject key identifier: a node's is a hash of the CA key
    whose function depends on the Go version that built the node (SHA-1,
    or truncated SHA-256 from Go 1.25 on), and without one OpenSSL matches
    the node's certificates to this CA by name alone."""
    ca = Ed25519Key(hkdf_sha256(cluster_key, SALT, b"ed25519 cluster CA"))
    cert = certificate(
        1, CA_NAME, CA_NAME,
        datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc),
        ca.public,
        [extension("2.5.29.15", der(0x03, b"\x02\x04"), critical=True),  # keyCertSign
         extension("2.5.29.19", seq(der(0x01, b"\xff"), integer(0)), critical=True)],  # CA, path length 0
        ca)
    return ca, cert


def leaf_certificate(ca, node_id, role=CLIENT_AUTH):
    """A fresh key and a certificate for node_id, signed by the CA key."""
    key = Ed25519Key(os.urandom(32))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert = certificate(
        int.from_bytes(os.urandom(15), "big"), CA_NAME, "meshsplit node " + node_id,
        now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=24),
        key.public,
        [extension("2.5.29.15", der(0x03, b"\x07\x80"), critical=True),  # digitalSignature
         extension("2.5.29.37", seq(oid(role))),
         extension("2.5.29.17", seq(der(0x86, f"meshsplit://node/{node_id}".encode())))],
        ca)
    return key, cert


def client_context(cluster_key, node_id):
    """An ssl context for the dialing side: TLS 1.3 only, this client's
    certificate, and the node's certificate verified against the derived CA
    (its role by OpenSSL's server purpose check, its node id by the caller)."""
    ca, ca_cert = cluster_ca(cluster_key)
    key, cert = leaf_certificate(ca, node_id)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False           # no host names: node ids in URI SANs
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ca_cert)
    with tempfile.TemporaryDirectory() as d:  # load_cert_chain reads files only
        cert_file, key_file = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(cert_file, "wb") as f:
            f.write(cert_pem(cert))
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(private_key_pem(key))
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def peer_node_id(tls):
    """The node id the node's (verified) certificate names."""
    sans = [v for k, v in tls.obj.getpeercert().get("subjectAltName", ()) if k == "URI"]
    prefix = "meshsplit://node/"
    if len(sans) != 1 or not sans[0].startswith(prefix):
        raise ssl.SSLError(f"the node's certificate names {sans}, want one {prefix}<id>")
    return sans[0][len(prefix):]


# ---------------------------------------------------------------------------
# TLS over the socket through memory BIOs: one lock around the TLS object,
# the socket read outside it, so a reader thread and writer threads can share
# the connection.
# ---------------------------------------------------------------------------


class TLSChannel:
    """A TLS client connection with the sendall/recv/close of a socket."""

    def __init__(self, sock, ctx):
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_side=False, server_hostname=None)
        self.lock = threading.Lock()
        while True:  # the handshake, before any other thread uses the channel
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _feed(self):
        data = self.sock.recv(65536)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    def sendall(self, data):
        with self.lock:
            self.obj.write(data)
            self._flush()

    def recv(self, n):
        while True:
            with self.lock:
                try:
                    data = self.obj.read(n)
                    self._flush()  # reading may have produced an alert or a reply
                    return data
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    return b""
            data = self.sock.recv(65536)  # outside the lock: writers go on
            with self.lock:
                if data:
                    self.incoming.write(data)
                else:
                    self.incoming.write_eof()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def setsockopt(self, *a):
        self.sock.setsockopt(*a)

    def shutdown(self, how):
        self.sock.shutdown(how)

    def close(self):
        self.sock.close()
