"""Clients for what curl and client libraries refuse to send: raw HTTP/1.1 bytes and raw HTTP/2
frames, over mTLS, from a chosen loopback source address.

    reply = http1(envoy, principal, b"GET /admin;x HTTP/1.1", [b"host: a", b"host: b"])
    reply = http2(envoy, principal, [(b":method", b"delete"), (b":path", b"/"), ...,
                                     (b"x-role", b"admin ")])

Both return a Reply: `status` (None when Envoy closed the connection or reset the stream without
answering), `headers` (lowercase names), `body` (bytes), `note` (why there was no answer).
`source` binds the client's end of the TCP connection (default 127.0.0.2): loopback tests of
peer-address rules need a peer that is neither Envoy's own address nor Linkerd's localhost.

HTTP/2 goes through PyPI `h2` (tests/e2e/requirements.txt) with its header validation and
normalization switched off, so header values with surrounding whitespace, lowercase methods,
repeated pseudo-headers and other malformed blocks reach Envoy byte for byte.
"""
import socket
import ssl

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from harness import SERVER_NAME

SOURCE = "127.0.0.2"


class Reply:
    def __init__(self, status, headers, body, note=""):
        self.status, self.headers, self.body, self.note = status, headers, body, note

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Reply {self.status} {self.body[:100]!r} {self.note}>"


def _tls(envoy, principal, alpn, source, timeout):
    ctx = envoy.ssl_context(principal)
    ctx.set_alpn_protocols([alpn])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", envoy.port))
    return ctx.wrap_socket(sock, server_hostname=SERVER_NAME)


def http1(envoy, principal, request_line, header_lines, body=b"", source=SOURCE, timeout=10):
    """Sends `request_line` and `header_lines` (bytes, each without CRLF, sent exactly as given),
    then `connection: close`, an empty line and `body`."""
    head = b"".join(x + b"\r\n" for x in [request_line, *header_lines, b"connection: close"]) + b"\r\n"
    try:
        with _tls(envoy, principal, "http/1.1", source, timeout) as t:
            t.sendall(head + body)
            data = b""
            # Read until the response is complete (not until EOF: after a local reply Envoy
            # waits up to its delayed_close_timeout, 1 s, for the client to close).
            while not _complete(data):
                chunk = t.recv(65536)
                if not chunk:
                    break
                data += chunk
    except (ssl.SSLError, ConnectionError, socket.timeout) as e:
        return Reply(None, {}, b"", f"connection failed: {e}")
    if not data:
        return Reply(None, {}, b"", "closed without a response")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        rest = out
    return Reply(status, headers, rest)


def _complete(data):
    """Does `data` hold a whole HTTP/1.1 response (content-length or chunked framing)?"""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    lower = head.lower()
    for line in lower.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":", 1)[1])
    if b"transfer-encoding: chunked" in lower:
        return rest.endswith(b"0\r\n\r\n")
    return False


def http2(envoy, principal, headers, body=None, source=SOURCE, timeout=10):
    """One stream with exactly these header fields (pseudo-headers included, in this order),
    then `body` if given."""
    config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                       normalize_outbound_headers=False, validate_inbound_headers=False,
                                       header_encoding=None)
    conn = h2.connection.H2Connection(config=config)
    status, got, data, note = None, {}, b"", ""
    try:
        with _tls(envoy, principal, "h2", source, timeout) as t:
            conn.initiate_connection()
            conn.send_headers(1, headers, end_stream=body is None)
            if body is not None:
                conn.send_data(1, body, end_stream=True)
            t.sendall(conn.data_to_send())
            done = False
            while not done:
                chunk = t.recv(65536)
                if not chunk:
                    note = note or "closed without a response"
                    break
                for ev in conn.receive_data(chunk):
                    if isinstance(ev, h2.events.ResponseReceived):
                        got = {k.decode("latin-1"): v.decode("latin-1") for k, v in ev.headers}
                        status = int(got.pop(":status"))
                    elif isinstance(ev, h2.events.DataReceived):
                        data += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.TrailersReceived):
                        got.update({k.decode("latin-1"): v.decode("latin-1") for k, v in ev.headers})
                    elif isinstance(ev, h2.events.StreamEnded):
                        done = True
                    elif isinstance(ev, h2.events.StreamReset):
                        note, done = f"stream reset ({ev.error_code!r})", True
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        note, done = f"GOAWAY ({ev.error_code!r})", True
                pending = conn.data_to_send()
                if pending:
                    t.sendall(pending)
    except (ssl.SSLError, ConnectionError, socket.timeout, h2.exceptions.ProtocolError) as e:
        note = f"connection failed: {type(e).__name__}: {e}"
    return Reply(status, got, data, note)
