# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Micro benchmarks: the facts cache alone, and the start-up of a module process."""

from __future__ import absolute_import, division, print_function

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

# ---------------------------------------------------------------- micro benchmarks


def cache_bench(sizes, collections_path):
    """FactsCache straight from plugins/module_utils/_cache.py: parse, lookup, update, size."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from ansible_collections.creatio.oauth.plugins.module_utils import _cache as cache_mod  # pylint: disable=import-outside-toplevel
    site = 'https://bench.creatio.com'
    rows = []
    for size in sizes:
        folder = tempfile.mkdtemp(prefix='creatio-cache-bench-')
        try:
            path = os.path.join(folder, 'facts.json')
            facts = cache_mod.FactsCache(path)
            clients = dict(('bench-%05d' % i, _cache_record(i, cache_mod.now_iso())) for i in range(size))
            facts.site_file(site).update(lambda document: document.setdefault('sites', {}).setdefault(site, {}).__setitem__('clients', clients))
            repeat = 40 if size <= 500 else 10
            name = 'bench-%05d' % (size // 2)
            parse = _median_time(facts.site_file(site).read, repeat)
            usable = _median_time(lambda: facts.check_usable(writable=True), repeat)
            # The first lookup of a module run parses the file; the next ones (a batch looks up
            # every item) reuse that parse until the file is replaced.
            get = _median_time(lambda: cache_mod.FactsCache(path).get(site, name), repeat)
            get_again = _median_time(lambda: facts.get(site, name), repeat)
            counter = [0]

            def changed_put():
                counter[0] += 1
                record = _cache_record(size // 2, None)
                record['application_url'] = 'https://changed%d.example.com' % counter[0]
                facts.put(site, name, record)
            put = _median_time(changed_put, repeat)
            same = facts.get(site, name)
            same.pop('confirmed_at', None)
            same_put = _median_time(lambda: facts.put(site, name, dict(same)), repeat)
            document = facts.site_file(site).read()
            write = _median_time(lambda: facts.site_file(site)._write(document), repeat)  # pylint: disable=protected-access
            rows.append({'clients': size, 'file_bytes': os.path.getsize(facts.site_file(site).path), 'parse_ms': parse * 1e3,
                         'check_usable_ms': usable * 1e3, 'get_ms': get * 1e3, 'get_again_ms': get_again * 1e3,
                         'update_ms': put * 1e3,
                         'write_fsync_ms': write * 1e3, 'reconfirm_unchanged_ms': same_put * 1e3})
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def _cache_record(index, confirmed_at):
    record = {'client_id': uuid.UUID(int=index).hex, 'grant_type': 'authorization_code',
              'application_url': 'https://app%d.example.com' % index, 'system_user_id': None, 'active': True,
              'redirect_urls': [{'id': str(uuid.UUID(int=index * 2 + 1)), 'url': 'https://app%d.example.com/cb' % index},
                                {'id': str(uuid.UUID(int=index * 2 + 2)), 'url': 'https://app%d.example.com/cb2' % index}]}
    if confirmed_at:
        record['confirmed_at'] = confirmed_at
    return record


def _median_time(func, repeat):
    times = []
    for dummy in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def startup_bench(collections_path, repeat):
    """Process start-up: a bare AnsibleModule import (what ping pays) against the import of each
    module of the collection, in a fresh interpreter, with no bytecode written (AnsiballZ imports
    from a zip, so the collection's module_utils are compiled on every run)."""
    env = dict(os.environ, PYTHONPATH=collections_path, PYTHONDONTWRITEBYTECODE='1')
    targets = [('ansible.module_utils.basic (what ping imports)', 'ansible.module_utils.basic'),
               ('requests (alone)', 'requests'),
               ('ansible.module_utils.basic + requests', 'requests')]
    for name in ('creatio_oauth_client', 'creatio_oauth_clients', 'creatio_redirect_url', 'creatio_oauth_client_info'):
        targets.append(('module %s' % name, 'ansible_collections.creatio.oauth.plugins.modules.%s' % name))
    rows = []
    for label, module in targets:
        code = 'import ansible.module_utils.basic, %s' % module if label.startswith(('module', 'ansible')) else 'import %s' % module
        times = []
        for dummy in range(repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, '-c', code], env=env, check=True)
            times.append(time.perf_counter() - started)
        loaded = subprocess.run([sys.executable, '-c', code + '; import sys; print(" ".join(sorted(sys.modules)))'],
                                env=env, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
        rows.append({'what': label, 'ms': statistics.median(times) * 1e3, 'modules_loaded': len(loaded),
                     'loads_requests': 'requests' in loaded})
    return rows
