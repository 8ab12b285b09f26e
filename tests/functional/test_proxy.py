# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxies: the modules honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY (requests' trust_env).

A small forward proxy (standard library, a thread on 127.0.0.1) sits between the module and the
simulator and records every request it relays: plain HTTP requests in absolute form (HTTP_PROXY) and
CONNECT tunnels (HTTPS_PROXY, TLS end to end through the tunnel, so the site's certificate is still
checked against ca_path). The real ansible-playbook runs creatio_oauth_client_info with the proxy
variables in its environment, as an AWX job gets them from "Extra Environment Variables":

- HTTP_PROXY set: every request the simulator answers came through the proxy;
- the simulator's host in NO_PROXY: the proxy sees nothing, the simulator still answers;
- NO_PROXY naming another spelling of that host (localhost for 127.0.0.1): still proxied, as
  requests matches NO_PROXY against the host name of the URL, not its address;
- HTTPS_PROXY and a TLS site from a private CA: CONNECT tunnels to the site, verified with ca_path;
- a proxy that refuses the tunnel: the task fails with a message, no traceback and no password.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import select
import socket
import socketserver
import sys
import threading
import urllib.parse

import pytest

from helpers import ROOT, SUPERVISOR, play  # pylint: disable=import-error
from pki import private_ca  # pylint: disable=import-error

PROXY_VARIABLES = ('HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
                   'all_proxy', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')
PLAYBOOK = play("""    - name: Read the integrations
      creatio.oauth.creatio_oauth_client_info:
      register: info

    - name: Show how many
      ansible.builtin.debug:
        msg: "{{ info.clients | length }} integrations"
""", name='Through a proxy')
USER, PASSWORD = SUPERVISOR  # the simulator's seeded administrator (conftest.ADMIN_USER, ADMIN_PASSWORD)
HOP_BY_HOP = ('connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade')


class LoopbackProxy(object):
    """A forward proxy on 127.0.0.1: absolute-form HTTP requests and CONNECT tunnels.

    ``relayed`` lists (method, target) of every request it relayed (or refused, with refuse_connect).
    Each connection carries one request (the proxy answers with Connection: close) or one tunnel."""

    def __init__(self, refuse_connect=False):
        self.refuse_connect = refuse_connect
        self.relayed = []
        self.errors = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    proxy.serve(self.request)
                except Exception as exc:  # pylint: disable=broad-except
                    with proxy._lock:
                        proxy.errors.append(repr(exc))

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _record(self, method, target):
        with self._lock:
            self.relayed.append((method, target))

    @staticmethod
    def _read_head(sock):
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None, b''
            data += chunk
            if len(data) > 1024 * 1024:
                raise ValueError('request head too large')
        head, rest = data.split(b'\r\n\r\n', 1)
        return head.decode('iso-8859-1').split('\r\n'), rest

    def serve(self, client):
        client.settimeout(30)
        head, rest = self._read_head(client)
        if not head:
            return
        method, target, _version = head[0].split(' ', 2)
        self._record(method, target)
        if method == 'CONNECT':
            if self.refuse_connect:
                client.sendall(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
                return
            host, port = target.rsplit(':', 1)
            upstream = socket.create_connection((host, int(port)), timeout=30)
            try:
                client.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
                if rest:
                    upstream.sendall(rest)
                self._pipe(client, upstream)
            finally:
                upstream.close()
            return
        url = urllib.parse.urlsplit(target)
        if url.scheme != 'http' or not url.hostname:
            client.sendall(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
            return
        headers = [h for h in head[1:] if h.split(':', 1)[0].strip().lower() not in HOP_BY_HOP]
        length = 0
        for header in headers:
            name, _sep, value = header.partition(':')
            if name.strip().lower() == 'content-length':
                length = int(value.strip())
        body = rest
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        path = url.path or '/'
        if url.query:
            path += '?' + url.query
        upstream = socket.create_connection((url.hostname, url.port or 80), timeout=30)
        try:
            request = ['%s %s HTTP/1.1' % (method, path)] + headers + ['Connection: close', '', '']
            upstream.sendall('\r\n'.join(request).encode('iso-8859-1') + body)
            answer_head, answer_rest = self._read_head(upstream)
            if answer_head is None:
                return
            answer_headers = [h for h in answer_head[1:] if h.split(':', 1)[0].strip().lower() not in HOP_BY_HOP]
            client.sendall('\r\n'.join([answer_head[0]] + answer_headers + ['Connection: close', '', '']).encode('iso-8859-1'))
            if answer_rest:
                client.sendall(answer_rest)
            while True:
                chunk = upstream.recv(65536)
                if not chunk:
                    break
                client.sendall(chunk)
        finally:
            upstream.close()

    @staticmethod
    def _pipe(one, other):
        sockets = [one, other]
        while True:
            readable, _w, _x = select.select(sockets, [], [], 30)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (other if sock is one else one).sendall(data)


def proxy_env(**values):
    """Every proxy variable removed, then the given ones set (run_playbook: None removes)."""
    env = dict((name, None) for name in PROXY_VARIABLES)
    env.update(values)
    return env


def _simulator_module():
    sim_dir = os.path.join(ROOT, 'tests', 'simulator')
    if sim_dir not in sys.path:
        sys.path.insert(0, sim_dir)
    import creatio_simulator  # pylint: disable=import-error
    return creatio_simulator


def test_http_proxy_relays_every_request(simulator, run_playbook):
    assert simulator.url.startswith('http://127.0.0.1:')
    with LoopbackProxy() as proxy:
        result = run_playbook(PLAYBOOK, env=proxy_env(HTTP_PROXY=proxy.url))
        assert result.rc == 0, result
        log = simulator.log()
        assert log and proxy.errors == []
        # every request the simulator answered came through the proxy, addressed to the simulator
        assert len(proxy.relayed) == len(log), (proxy.relayed, [e['endpoint'] for e in log])
        assert all(target.startswith(simulator.url + '/') for _method, target in proxy.relayed), proxy.relayed
        assert [method for method, _target in proxy.relayed] == [e['method'] for e in log]


@pytest.mark.parametrize('variable', ['NO_PROXY', 'no_proxy'])
def test_no_proxy_host_bypasses_the_proxy(simulator, run_playbook, variable):
    with LoopbackProxy() as proxy:
        env = proxy_env(HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url)
        env[variable] = 'example.com,127.0.0.1'
        result = run_playbook(PLAYBOOK, env=env)
        assert result.rc == 0, result
        assert simulator.log(), 'the simulator was not reached'
        assert proxy.relayed == []


def test_no_proxy_matches_the_host_name_as_written(simulator, run_playbook):
    # The URL says 127.0.0.1; NO_PROXY=localhost names the same machine but not that host name.
    with LoopbackProxy() as proxy:
        result = run_playbook(PLAYBOOK, env=proxy_env(HTTP_PROXY=proxy.url, NO_PROXY='localhost'))
        assert result.rc == 0, result
        assert proxy.relayed and len(proxy.relayed) == len(simulator.log())


def test_https_proxy_tunnels_to_a_tls_site_verified_with_ca_path(run_playbook, tmp_path):
    ca = private_ca(tmp_path)
    sim = _simulator_module().Simulator(host='127.0.0.1', port=0, tls_cert=ca.server_cert, tls_key=ca.server_key)
    sim.start()
    try:
        origin = sim.url.split('://', 1)[1]
        login = {'CREATIO_URL': sim.url, 'CREATIO_USERNAME': USER, 'CREATIO_PASSWORD': PASSWORD}
        with LoopbackProxy() as proxy:
            # HTTP_PROXY points nowhere: an https URL must use HTTPS_PROXY only
            env = proxy_env(HTTPS_PROXY=proxy.url, HTTP_PROXY='http://127.0.0.1:9', CREATIO_CA_PATH=ca.ca_path, **login)
            result = run_playbook(PLAYBOOK, env=env)
            assert result.rc == 0, result
            assert sim.log(), 'the simulator was not reached'
            assert proxy.relayed and set(proxy.relayed) == {('CONNECT', origin)}, proxy.relayed
            assert proxy.errors == []
            assert 'validate_certs is false' not in result.output

        # the same tunnel without the CA: the certificate is still checked end to end, and refused
        with LoopbackProxy() as proxy:
            sim.clear_log()
            env = proxy_env(HTTPS_PROXY=proxy.url, **login)
            refused = run_playbook(PLAYBOOK, env=dict(env, CREATIO_CACHE_PATH=str(tmp_path / 'other-cache.json')))
            assert refused.rc != 0, refused
            assert proxy.relayed and set(proxy.relayed) == {('CONNECT', origin)}
            assert sim.log() == []
            assert 'TLS certificate verification failed' in refused.output, refused
    finally:
        sim.stop()


def test_a_proxy_that_refuses_the_tunnel_fails_the_task_cleanly(run_playbook, tmp_path):
    secret = 'pr0xy-Test-Pa55word'
    ca = private_ca(tmp_path)
    sim = _simulator_module().Simulator(host='127.0.0.1', port=0, tls_cert=ca.server_cert, tls_key=ca.server_key)
    sim.start()
    try:
        with LoopbackProxy(refuse_connect=True) as proxy:
            # nothing reaches Creatio, so any password will do: a distinctive one, to look for in the output
            env = proxy_env(HTTPS_PROXY=proxy.url, CREATIO_CA_PATH=ca.ca_path, CREATIO_URL=sim.url,
                            CREATIO_USERNAME=USER, CREATIO_PASSWORD=secret, CREATIO_REQUEST_TIMEOUT='5')
            result = run_playbook(PLAYBOOK, env=env)
        assert result.rc != 0, result
        assert proxy.relayed and all(method == 'CONNECT' for method, _target in proxy.relayed)
        assert sim.log() == []
        assert result.failed_tasks() == ['Read the integrations'], result
        failed = result.task_result('Read the integrations')
        assert 'ProxyError' in failed['msg'] and failed['error']['call'] == 'Login', failed
        assert sim.url.split('://', 1)[1] in failed['msg']  # names the site it could not reach
        assert 'Traceback' not in result.output
        assert secret not in result.output
    finally:
        sim.stop()
