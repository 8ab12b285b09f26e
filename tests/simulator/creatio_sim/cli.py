"""Command line: serve one site (or ``--sites N``) until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from . import data
from .fleet import SimulatorFleet


def _write_atomically(path, content):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _parser():
    parser = argparse.ArgumentParser(description='Strict Creatio OAuth API simulator (see docs/dev/design.md).')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0, help='0 = any free port; with --sites, the first of N ports')
    parser.add_argument('--site-path', default='/')
    parser.add_argument('--no-csrf', action='store_true', help='switch CSRF checking off')
    parser.add_argument('--platform', choices=data.PLATFORMS, default='netframework',
                        help='netframework: API under {site}/0; netcore: API at {site}')
    parser.add_argument('--creatio-version', choices=data.VERSIONS, default='8.3')
    parser.add_argument('--language', choices=('en', 'de'), default='en')
    parser.add_argument('--database', choices=data.DATABASES, default='postgresql',
                        help='postgresql: OData text filters match the stored case only; mssql: any case')
    parser.add_argument('--redirect-entity', choices=data.REDIRECT_ENTITY_MODES, default='readable')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--sites', type=int, help='serve N independent sites, each on its own port')
    parser.add_argument('--port-file', help='once listening: the port (one site), or with --sites a JSON list of '
                                            '{url, identity_url, control}; removed on exit')
    parser.add_argument('--token-ttl', type=int, default=3600)
    parser.add_argument('--odata-page-size', type=int, default=100)
    parser.add_argument('--verbose', action='store_true', help='print one line per request on stderr')
    parser.add_argument('--quiet', action='store_true', help='never print per-request lines')
    return parser


def _print_banner(fleet, args):
    first = fleet[0]
    for site in fleet:
        print(f'Creatio simulator listening on {site.url}')
        print(f'Identity service: {site.identity_url}')
    print(f'Platform: {args.platform} (API at {first.api_url}), Creatio {args.creatio_version}, '
          f'language {args.language}, database {args.database}')
    print(f'CSRF checking: {"on" if not args.no_csrf else "off"}')
    print('Seeded users (SysAdminUnit type 4):')
    print(f'  {"name":<12} {"password":<22} {"user id (systemUserId)":<36} admin')
    for user in data.USERS:
        password = user['password'] or '(technical, no login)'
        print(f'  {user["name"]:<12} {password:<22} {user["id"]:<36} {"yes" if user["admin"] else "no"}')
    print(f'Automation OAuth client: "{data.AUTOMATION_CLIENT_NAME}" client_id {data.AUTOMATION_CLIENT_ID} '
          f'secret {data.AUTOMATION_CLIENT_SECRET} (system user Supervisor)')
    sys.stdout.flush()


def main(argv=None):
    """Command line entry point."""
    parser = _parser()
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error('--tls-cert and --tls-key go together')
    if args.sites is not None and args.sites < 1:
        parser.error('--sites must be at least 1')
    fleet = SimulatorFleet(args.sites or 1, host=args.host, base_port=args.port, site_path=args.site_path,
                           csrf=not args.no_csrf, tls_cert=args.tls_cert, tls_key=args.tls_key,
                           token_ttl=args.token_ttl, odata_page_size=args.odata_page_size,
                           verbose=args.verbose and not args.quiet, platform=args.platform,
                           creatio_version=args.creatio_version, language=args.language, database=args.database,
                           redirect_entity=args.redirect_entity)
    stop = threading.Event()

    def _on_signal(signum, frame):
        del signum, frame
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    fleet.start()
    if args.port_file:
        if args.sites is None:
            _write_atomically(args.port_file, f'{fleet[0].port}\n')
        else:
            _write_atomically(args.port_file, json.dumps(fleet.describe(), indent=1) + '\n')
    _print_banner(fleet, args)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        fleet.stop()
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
    return 0
