# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures of the module_utils unit tests.

``tests/simulator`` (no ``__init__.py`` on purpose) is put on ``sys.path``, located relative to this
file so that it works both from the repository root (plain pytest) and in the tree that
``ansible-test units`` copies. The fixtures start the simulator on 127.0.0.1, port 0.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json
import os
import sys
import threading

import pytest

SIMULATOR_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'simulator'))
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)

# Imported once here, not in each test: ansible-test units runs every test in a fresh fork, so
# whatever the parent process imported is free for the children.
import creatio_simulator  # noqa: E402  pylint: disable=import-error,wrong-import-position

PROXY_VARIABLES = ('HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy')


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """HttpTransport honours proxies from the environment: loopback must not go through one."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')


@pytest.fixture
def sim_factory():
    """Start simulators with any constructor arguments; all are stopped at teardown."""
    started = []

    def factory(**kwargs):
        kwargs.setdefault('host', '127.0.0.1')
        kwargs.setdefault('port', 0)
        sim = creatio_simulator.Simulator(**kwargs).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(sim_factory):  # pylint: disable=redefined-outer-name
    return sim_factory()


@pytest.fixture
def simulator_module():
    """The creatio_simulator module (constants such as AUTOMATION_CLIENT_ID)."""
    return creatio_simulator


@pytest.fixture
def html_site():
    """A site that answers every request with HTTP 200 and an HTML page, like a single sign-on
    page in front of Creatio. Yields its base URL."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # pylint: disable=import-outside-toplevel

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            pass

        def _answer(self):
            length = int(self.headers.get('Content-Length') or 0)
            if length:
                self.rfile.read(length)
            body = b'<!DOCTYPE html><html><body><form action="/sso">Sign in</form></body></html>'
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def module_args():
    """A context manager factory that injects module arguments for AnsibleModule:
    ``patch_module_args`` on ansible-core 2.19+, ``basic._ANSIBLE_ARGS`` on older cores."""

    @contextlib.contextmanager
    def inject(args):
        try:
            from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
        except ImportError:
            patch_module_args = None
        if patch_module_args is not None:
            with patch_module_args(args):
                yield
            return
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        from ansible.module_utils.common.text.converters import to_bytes  # pylint: disable=import-outside-toplevel
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old

    return inject
