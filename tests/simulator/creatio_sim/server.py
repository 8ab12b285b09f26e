"""HTTP plumbing: answers, the per-request context, the keep-alive handler and the threading server.
All Creatio logic lives in site.Simulator."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024


def is_loopback(address):
    """Return True when a client address is a loopback address (127.0.0.0/8, ::1)."""
    try:
        ip = ipaddress.ip_address(str(address).split('%', 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class Reply:
    """An HTTP answer (or a dropped connection when drop is True)."""

    def __init__(self, status, body=b'', ctype='application/json; charset=utf-8', headers=None, drop=False):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.drop = drop
        self.trickle = 0  # seconds between bytes of the body (a fault: an answer that never ends in time)


def json_reply(status, document, headers=None):
    """A JSON answer."""
    return Reply(status, json.dumps(document).encode('utf-8'), headers=headers)


def html_reply(status, body, headers=None):
    """An HTML answer."""
    return Reply(status, body, 'text/html; charset=utf-8', headers)


def xml_reply(status, body):
    """An XML answer (OData $metadata)."""
    return Reply(status, body, 'application/xml; charset=utf-8', [('OData-Version', '4.0')])


def parse_cookies(headers):
    """{name: value} of every Cookie header (the first of a repeated name wins)."""
    cookies = {}
    for header in headers.get_all('Cookie') or []:
        for part in header.split(';'):
            name, sep, value = part.strip().partition('=')
            if sep and name:
                cookies.setdefault(name, value.strip().strip('"'))
    return cookies


def media_type(headers):
    """The Content-Type without parameters, lower-case."""
    return (headers.get('Content-Type') or '').split(';', 1)[0].strip().lower()


def load_json(body):
    """The body as JSON, or None."""
    try:
        return json.loads(body.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None


class Ctx:
    """Per-request facts used by the endpoint handlers and by the log."""

    def __init__(self, handler, path, query, body):
        self.method = handler.command
        self.target = handler.path
        self.path = path
        self.query = query
        self.headers = handler.headers
        self.body = body
        self.endpoint = 'Other'
        self.kind = 'other'
        self.auth = 'none'
        self.user = None
        self.session = None
        self.csrf = None
        self.base = handler.base_url()


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler."""

    protocol_version = 'HTTP/1.1'
    server_version = 'Creatio-Simulator/2.0'
    timeout = 120
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Silence http.server's own access log."""

    def base_url(self):
        """scheme://host[:port] as the client addressed us."""
        sim = self.server.sim
        host = self.headers.get('Host') or sim.url.split('://', 1)[1].split('/', 1)[0]
        return f'{sim.scheme}://{host}'

    def _read_body(self):
        sim = self.server.sim
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            self.close_connection = True
            self._send(json_reply(411, {'Message': sim.text('content_length')}))
            return None
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(json_reply(413 if length > MAX_BODY else 400, {'Message': sim.text('bad_content_length')}))
            return None
        return self.rfile.read(length) if length else b''

    def _send(self, reply):
        if reply.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header('Content-Type', reply.ctype)
        self.send_header('Content-Length', str(len(reply.body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if not reply.trickle:
            self.wfile.write(reply.body)
            return
        self.wfile.flush()
        for index in range(len(reply.body)):
            try:
                self.wfile.write(reply.body[index:index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up
                self.close_connection = True
                return
            time.sleep(reply.trickle)

    def _handle(self):
        sim = self.server.sim
        body = self._read_body()
        if body is None:
            return
        path, _sep, query = self.path.partition('?')
        if path == '/_sim' or path.startswith('/_sim/'):
            self._send(sim.admin(self.command, path, body, self.client_address[0]))
            return
        try:
            reply = sim.handle(Ctx(self, path, query, body))
        except Exception:  # pylint: disable=broad-except
            # A bug of the simulator: answer like an unhandled server error, and say where on stderr.
            traceback.print_exc()
            reply = json_reply(500, {'Message': 'Simulator error (see its stderr).', 'StackTrace': None,
                                     'ExceptionType': 'System.Exception'})
        if sim.verbose:
            sys.stderr.write(f'{self.client_address[0]} {self.command} {path} -> {"dropped" if reply.drop else reply.status}\n')
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    """Threading server that tracks open connections and does TLS handshakes off the accept loop."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, sim, ssl_context):
        self.sim = sim
        self.ssl_context = ssl_context
        self._conns = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        conn = request
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        with self._conns_lock:
            self._conns.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            if conn is not request:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

    def handle_error(self, request, client_address):
        if self.sim.verbose:
            super().handle_error(request, client_address)

    def close_all(self):
        """Shut down every open client connection."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Server6(Server):
    """IPv6 variant."""

    address_family = socket.AF_INET6
