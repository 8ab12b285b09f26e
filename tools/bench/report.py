# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures: medians, ratios, the targets, the table printed and the RST tables for the docs."""

from __future__ import absolute_import, division, print_function

import datetime
import json
import os
import platform
import statistics

from bench.common import ALL_SCENARIOS, CACHE_SHARE_OF_TASK, RERUN_FLOOR_FACTOR
from bench.scenarios import integrations, redirect_calls

# ---------------------------------------------------------------- report


def machine():
    model = None
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except IOError:
        pass
    from ansible.release import __version__ as core_version  # pylint: disable=import-outside-toplevel
    try:
        import requests  # pylint: disable=import-outside-toplevel
        requests_version = requests.__version__
    except ImportError:
        requests_version = None
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        'nproc': os.cpu_count(), 'cpu_model': model, 'platform': platform.platform(),
        'python': platform.python_version(), 'ansible_core': core_version, 'requests': requests_version,
        'loadavg_start': _loadavg(),
    }


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def summarise(raw, sizes):
    """Medians per size and scenario, ratios, marginal cost per integration (slope over N)."""
    table = []
    medians = {}
    for size in sizes:
        for scenario in ALL_SCENARIOS:
            runs = raw.get(str(size), {}).get(scenario) or []
            if not runs:
                continue
            walls = [r['wall'] for r in runs]
            last = runs[-1]
            row = {'size': size, 'scenario': scenario, 'runs': len(runs), 'wall_s': statistics.median(walls),
                   'wall_min_s': min(walls), 'wall_max_s': max(walls), 'cpu_s': statistics.median([r['cpu'] for r in runs]),
                   'logins': last['logins'] + last['tokens'], 'reads': last['reads'], 'writes': last['writes'],
                   'requests': last['requests']}
            row['per_integration_s'] = row['wall_s'] / size
            medians[(size, scenario)] = row['wall_s']
            table.append(row)
    cpus = dict(((r['size'], r['scenario']), r['cpu_s']) for r in table)
    for row in table:
        baseline = medians.get((row['size'], 'baseline'))
        floor = medians.get((row['size'], 'floor'))
        row['vs_baseline'] = row['wall_s'] / baseline if baseline else None
        row['vs_floor'] = row['wall_s'] / floor if floor else None
        # CPU time of the whole process tree: much less disturbed by other jobs on a shared machine.
        floor_cpu = cpus.get((row['size'], 'floor'))
        baseline_cpu = cpus.get((row['size'], 'baseline'))
        row['cpu_vs_floor'] = row['cpu_s'] / floor_cpu if floor_cpu else None
        row['cpu_vs_baseline'] = row['cpu_s'] / baseline_cpu if baseline_cpu else None
    marginal = {}
    marginal_cpu = {}
    if len(sizes) >= 2:
        for scenario in ALL_SCENARIOS:
            points = [(size, medians[(size, scenario)]) for size in sizes if (size, scenario) in medians]
            if len(points) >= 2:
                marginal[scenario] = _slope(points)
                marginal_cpu[scenario] = _slope([(size, cpus[(size, scenario)]) for size, _wall in points])
    return table, marginal, marginal_cpu


def _slope(points):
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((p[0] - mean_x) ** 2 for p in points)
    return num / den if den else None


def targets(table, marginal, marginal_cpu, cache_rows, checks, sizes):
    by = dict(((r['size'], r['scenario']), r) for r in table)
    largest = max(sizes)
    out = []

    def add(name, ok, detail):
        out.append({'target': name, 'ok': ok, 'detail': detail})

    first_logins = [by[(s, 'first')]['logins'] for s in sizes if (s, 'first') in by]
    if first_logins:
        add('logins per run = 1 per site (first runs)', all(x == 1 for x in first_logins), 'first-run logins by N: %s' % first_logins)
    rerun_writes = [by[(s, 'rerun')]['writes'] for s in sizes if (s, 'rerun') in by]
    if rerun_writes:
        add('re-run writes = 0', all(x == 0 for x in rerun_writes), 're-run writes by N: %s' % rerun_writes)
    firsts = [(s, by[(s, 'first')]['writes'], s + redirect_calls(integrations(s))[1]) for s in sizes if (s, 'first') in by]
    if firsts:
        add('first-run writes = 1 AddClient per integration + 1 AddRedirectUrls per client with more than one URI',
            all(f[1] == f[2] for f in firsts),
            'N/sent/minimum: %s (single-URI authorization_code clients also get an AddRedirectUrls: it returns the URI id, '
            'AddClient does not)' % ', '.join('%d/%d/%d' % f for f in firsts))
    noverify = [by[(s, 'rerun-noverify')]['requests'] for s in sizes if (s, 'rerun-noverify') in by]
    if noverify:
        add('verify: false sends nothing', all(x == 0 for x in noverify), 'requests by N: %s' % noverify)
    for size in sizes:
        for scenario in ('rerun', 'rerun-noverify'):
            if (size, scenario) in by and (size, 'floor') in by:
                row = by[(size, scenario)]
                add('%s time per integration <= %.1f x floor per task (N=%d, median wall)' % (scenario, RERUN_FLOOR_FACTOR, size),
                    row['vs_floor'] <= RERUN_FLOOR_FACTOR, '%.3f s vs %.3f s per task: x%.2f (CPU time: x%.2f)' % (
                        row['per_integration_s'], by[(size, 'floor')]['per_integration_s'], row['vs_floor'], row['cpu_vs_floor']))
    for scenario in ('rerun', 'rerun-noverify'):
        if marginal.get(scenario) and marginal.get('floor'):
            ratio = marginal[scenario] / marginal['floor']
            cpu = marginal_cpu[scenario] / marginal_cpu['floor'] if marginal_cpu.get('floor') else float('nan')
            add('marginal %s cost per integration <= %.1f x floor (slope over N)' % (scenario, RERUN_FLOOR_FACTOR),
                ratio <= RERUN_FLOOR_FACTOR, '%.3f s vs %.3f s: x%.2f (CPU time: x%.2f)' % (marginal[scenario], marginal['floor'], ratio, cpu))
    for size in sizes:
        if (size, 'first') in by and (size, 'baseline') in by:
            ratio = by[(size, 'first')]['vs_baseline']
            add('first run faster than the uri baseline (N=%d, median wall)' % size, ratio < 1.0,
                '%.2f s vs %.2f s: x%.2f (CPU time: x%.2f)' % (
                    by[(size, 'first')]['wall_s'], by[(size, 'baseline')]['wall_s'], ratio, by[(size, 'first')]['cpu_vs_baseline']))
    big = [r for r in cache_rows if r['clients'] == max(r['clients'] for r in cache_rows)] if cache_rows else []
    if big and (largest, 'floor') in by:
        task = by[(largest, 'floor')]['per_integration_s'] * 1e3
        add('cache update at %d clients well under one task (< %d%%)' % (big[0]['clients'], CACHE_SHARE_OF_TASK * 100),
            big[0]['update_ms'] < CACHE_SHARE_OF_TASK * task, 'update %.1f ms vs %.0f ms per task' % (big[0]['update_ms'], task))
    failed = [c for c in checks if not c['ok']]
    if checks:
        add('every run did what it must (%d checks)' % len(checks), not failed, '%d failed' % len(failed))
    return out


def print_report(result):
    m = result['machine']
    print()
    print('creatio.oauth bench: %s, %s CPU(s) %s, Python %s, ansible-core %s, via %s, %d run(s) per scenario' % (
        m['date'], m['nproc'], m['cpu_model'], m['python'], m['ansible_core'], result['config']['via'], result['config']['repeat']))
    print('load average at start %s, at end %s' % (m['loadavg_start'], m.get('loadavg_end')))
    print()
    header = '%5s  %-15s %8s %8s %9s %8s %8s %8s %8s %7s %6s %6s' % (
        'N', 'scenario', 'wall s', 'min s', 's/integr', 'x uri', 'x ping', 'cpu s', 'cpu/ping', 'logins', 'reads', 'writes')
    print(header)
    print('-' * len(header))
    for row in result['table']:
        print('%5d  %-15s %8.2f %8.2f %9.3f %8s %8s %8.2f %8s %7d %6d %6d' % (
            row['size'], row['scenario'], row['wall_s'], row['wall_min_s'], row['per_integration_s'], _ratio(row['vs_baseline']),
            _ratio(row['vs_floor']), row['cpu_s'], _ratio(row['cpu_vs_floor']), row['logins'], row['reads'], row['writes']))
    if result['marginal']:
        print()
        print('marginal cost per integration (slope over N of the median wall time; of the CPU time):')
        floor = result['marginal'].get('floor')
        floor_cpu = result['marginal_cpu'].get('floor')
        for scenario in [s for s in ALL_SCENARIOS if result['marginal'].get(s) is not None]:
            slope = result['marginal'][scenario]
            cpu = result['marginal_cpu'][scenario]
            wall_note = ('  (x%.2f ping)' % (slope / floor)) if floor else ''
            cpu_note = ('  (x%.2f ping)' % (cpu / floor_cpu)) if floor_cpu else ''
            print('  %-15s %.3f s%s   cpu %.3f s%s' % (scenario, slope, wall_note, cpu, cpu_note))
    if result['cache']:
        print()
        print('facts cache (plugins/module_utils/_cache.py):')
        columns = ('clients', 'file bytes', 'parse ms', 'check_usable', 'get ms', 'next get', 'update ms', 'of which write',
                   'reconfirm same ms')
        print('  %8s %12s %9s %13s %8s %9s %10s %15s %17s' % columns)
        for row in result['cache']:
            print('  %8d %12d %9.2f %13.2f %8.2f %9.2f %10.2f %15.2f %17.2f' % (
                row['clients'], row['file_bytes'], row['parse_ms'], row['check_usable_ms'], row['get_ms'], row['get_again_ms'],
                row['update_ms'], row['write_fsync_ms'], row['reconfirm_unchanged_ms']))
    if result['startup']:
        print()
        print('module start-up (fresh interpreter, import only, no bytecode cache for the collection):')
        for row in result['startup']:
            note = '' if row['loads_requests'] else '  (requests not imported)'
            print('  %-50s %7.1f ms  %4d modules%s' % (row['what'], row['ms'], row['modules_loaded'], note))
    print_sites(result)
    print()
    print('targets:')
    for target in result['targets']:
        print('  %-4s %s: %s' % ('PASS' if target['ok'] else 'MISS', target['target'], target['detail']))
    failed = [c for c in result['checks'] if not c['ok']]
    for check in failed:
        counts = json.dumps(check.get('counts'), sort_keys=True)
        print('  FAILED check: N=%s %s: %s %s' % (check['size'], check['scenario'], check['check'], counts))
        if check.get('output_tail'):
            print('    ' + check['output_tail'].replace('\n', '\n    '))
    print()
    print('results: %s (tables for the docs: %s)' % (result['config']['output'], os.path.splitext(result['config']['output'])[0] + '.rst'))


def rst_tables(result):
    """The figures as reStructuredText simple tables (docs/docsite/rst/performance.rst takes them as they are)."""
    m = result['machine']
    out = ['Measured %s on %s CPU(s) (%s), %s, Python %s, ansible-core %s, requests %s; load average (1/5/15 min) %s at '
           'the start, %s at the end; median of %d runs, through the %s.' % (
               m['date'], m['nproc'], m['cpu_model'], m['platform'], m['python'], m['ansible_core'], m['requests'],
               ' / '.join(str(x) for x in m['loadavg_start'] or []), ' / '.join(str(x) for x in m.get('loadavg_end') or []),
               result['config']['repeat'], 'integrations role' if result['config']['via'] == 'role' else 'one looping task'), '']
    rows = [['%d' % r['size'], r['scenario'], '%.2f' % r['wall_s'], '%.2f' % r['wall_min_s'], '%.3f' % r['per_integration_s'],
             _ratio(r['vs_baseline']), _ratio(r['vs_floor']), '%.2f' % r['cpu_s'], _ratio(r['cpu_vs_floor']),
             '%d' % r['logins'], '%d' % r['reads'], '%d' % r['writes']] for r in result['table']]
    out += _simple_table(['N', 'scenario', 'wall (s)', 'min (s)', 'per integration (s)', 'vs uri', 'vs ping', 'CPU (s)', 'CPU vs ping',
                          'logins', 'reads', 'writes'], rows)
    if result['marginal']:
        floor = result['marginal'].get('floor')
        floor_cpu = result['marginal_cpu'].get('floor')
        rows = [[scenario, '%.3f' % result['marginal'][scenario], _ratio(result['marginal'][scenario] / floor) if floor else '-',
                 '%.3f' % result['marginal_cpu'][scenario], _ratio(result['marginal_cpu'][scenario] / floor_cpu) if floor_cpu else '-']
                for scenario in ALL_SCENARIOS if result['marginal'].get(scenario) is not None]
        out += ['', 'Marginal cost of one more integration (slope over N):', '']
        out += _simple_table(['scenario', 'wall (s)', 'vs ping', 'CPU (s)', 'CPU vs ping'], rows)
    if result['cache']:
        rows = [['%d' % r['clients'], _size(r['file_bytes']), '%.2f' % r['parse_ms'], '%.2f' % r['get_ms'], '%.2f' % r['get_again_ms'],
                 '%.2f' % r['update_ms'], '%.2f' % r['write_fsync_ms'], '%.2f' % r['reconfirm_unchanged_ms']] for r in result['cache']]
        out += ['', 'Facts cache (``plugins/module_utils/_cache.py`` alone):', '']
        out += _simple_table(['clients', 'file size', 'parse (ms)', 'first lookup (ms)', 'next lookups (ms)', 'update (ms)',
                              'of which write + fsync (ms)', 'unchanged re-confirmation (ms)'], rows)
    if result['startup']:
        rows = [[r['what'], '%.0f' % r['ms'], '%d' % r['modules_loaded'], 'yes' if r['loads_requests'] else 'no'] for r in result['startup']]
        out += ['', 'Start-up of a fresh interpreter (import only):', '']
        out += _simple_table(['import', 'ms', 'modules loaded', 'requests imported'], rows)
    out += sites_rst(result)
    return '\n'.join(out) + '\n'


def _simple_table(header, rows):
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    rule = '  '.join('=' * w for w in widths)
    lines = [rule, '  '.join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), rule]
    lines += ['  '.join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return lines + [rule]


def _size(count):
    if count >= 1024 * 1024:
        return '%.1f MiB' % (count / 1024.0 / 1024)
    if count >= 1024:
        return '%.0f KiB' % (count / 1024.0)
    return '%d bytes' % count


def _ratio(value):
    return 'x%.2f' % value if value is not None else '-'


# ---------------------------------------------------------------- many sites (issue 15)

SITES_SCENARIOS = ('first', 'rerun', 'check', 'module', 'ping', 'baseline')
SITES_HELP = {
    'first': 'creatio.oauth.sites (the role on every site): first run, fresh sites, empty cache',
    'rerun': 'creatio.oauth.sites: re-run with nothing to do',
    'check': 'creatio.oauth.sites --check of the converged sites',
    'module': "the role's creatio_oauth_clients task alone per site, nothing to do (a re-run without the role's other tasks)",
    'ping': 'one ansible.builtin.ping per site',
    'baseline': 'ansible.builtin.uri on every site: login, headers, one AddClient task per integration',
}
RERUN_PING_FACTOR = 1.3
FIRST_URI_FACTOR = 0.3
LOCK_WAIT_SHARE = 0.05


def sites_summary(out):
    """One row per scenario: medians, ratios, what every site got, the lock waits."""
    rows = []
    for scenario in SITES_SCENARIOS:
        runs = out.get(scenario) or []
        if not runs:
            continue
        walls = [r['wall'] for r in runs]
        median_run = sorted(runs, key=lambda r: r['wall'])[len(runs) // 2]
        per_site = median_run['per_site']
        rows.append({
            'scenario': scenario, 'runs': len(runs), 'wall_s': statistics.median(walls), 'wall_min_s': min(walls),
            'cpu_s': statistics.median([r['cpu'] for r in runs]),
            'logins_per_site': sorted(set(s['logins'] for s in per_site)),
            'reads_per_site': sorted(set(s['reads'] for s in per_site)),
            'writes_per_site': sorted(set(s['writes'] for s in per_site)),
            'lock_waits': max(r['locks']['wait_s'] for r in runs), 'locks': median_run['locks']['locks'],
            'lock_share_of_wall': max(r['locks']['share_of_wall'] for r in runs),
            'lock_share_of_forks': max(r['locks']['share_of_forks'] for r in runs),
            'locks_by_kind': median_run['locks']['by_kind'],
        })
    by = dict((r['scenario'], r) for r in rows)
    for row in rows:
        for other, key in (('ping', 'vs_ping'), ('baseline', 'vs_uri')):
            base = by.get(other)
            row[key] = row['wall_s'] / base['wall_s'] if base else None
            row['cpu_' + key] = row['cpu_s'] / base['cpu_s'] if base else None
    return rows


def sites_targets(rows, config, checks):
    by = dict((r['scenario'], r) for r in rows)
    out = []
    label = '%d sites x %d integrations, forks %d' % (config['sites'], config['size'], config['forks'])

    def add(name, ok, detail):
        out.append({'target': name, 'ok': ok, 'detail': detail})

    if 'rerun' in by and 'ping' in by:
        row = by['rerun']
        add('many sites: re-run <= %.1f x one ping per site (%s, median wall)' % (RERUN_PING_FACTOR, label),
            row['vs_ping'] <= RERUN_PING_FACTOR, '%.2f s vs %.2f s: x%.2f (CPU time: x%.2f)' % (
                row['wall_s'], by['ping']['wall_s'], row['vs_ping'], row['cpu_vs_ping']))
        add('many sites: re-run sends 0 writes, 1 read and 0 or 1 login per site',
            row['writes_per_site'] == [0] and len(row['reads_per_site']) == 1 and max(row['logins_per_site']) <= 1,
            'per site: writes %s, OData reads %s, logins %s' % (row['writes_per_site'], row['reads_per_site'], row['logins_per_site']))
    if 'first' in by and 'baseline' in by:
        row = by['first']
        add('many sites: first run <= %.1f x the uri baseline (%s)' % (FIRST_URI_FACTOR, label), row['vs_uri'] <= FIRST_URI_FACTOR,
            '%.2f s vs %.2f s: x%.2f (CPU time: x%.2f)' % (row['wall_s'], by['baseline']['wall_s'], row['vs_uri'], row['cpu_vs_uri']))
    collection = [r for r in rows if r['scenario'] in ('first', 'rerun', 'check')]
    if collection:
        worst = max(collection, key=lambda r: r['lock_share_of_wall'])
        add('many sites: lock wait < %d%% of the run (forks %d)' % (LOCK_WAIT_SHARE * 100, config['forks']),
            worst['lock_share_of_wall'] < LOCK_WAIT_SHARE,
            'worst: %s, %.2f s waited in all (summed over every module process) in a %.1f s run: %.1f%% (%.2f%% of the time of '
            'the %d forks)' % (worst['scenario'], worst['lock_waits'], worst['wall_s'], worst['lock_share_of_wall'] * 100,
                               worst['lock_share_of_forks'] * 100, config['forks']))
    failed = [c for c in checks if not c['ok']]
    add('many sites: every run did what it must (%d checks)' % len(checks), not failed, '%d failed' % len(failed))
    return out


def print_sites(result):
    sites = result.get('sites')
    if not sites:
        return
    config = sites['config']
    print()
    print('many sites: %d simulated sites x %d integrations, forks %d, %d run(s) of rerun/check/ping (median)' % (
        config['sites'], config['size'], config['forks'], config['repeat']))
    header = '  %-9s %5s %8s %8s %8s %7s %7s %8s %8s %7s %7s %10s %7s' % (
        'scenario', 'runs', 'wall s', 'min s', 'cpu s', 'x ping', 'x uri', 'cpu/ping', 'logins', 'reads', 'writes',
        'lock wait', '% wall')
    print(header)
    print('  ' + '-' * (len(header) - 2))
    for row in sites['table']:
        print('  %-9s %5d %8.2f %8.2f %8.2f %7s %7s %8s %8s %7s %7s %9.2fs %6.1f%%' % (
            row['scenario'], row['runs'], row['wall_s'], row['wall_min_s'], row['cpu_s'], _ratio(row['vs_ping']),
            _ratio(row['vs_uri']), _ratio(row['cpu_vs_ping']), _per_site(row['logins_per_site']), _per_site(row['reads_per_site']),
            _per_site(row['writes_per_site']), row['lock_waits'], row['lock_share_of_wall'] * 100))


def sites_rst(result):
    sites = result.get('sites')
    if not sites:
        return []
    config = sites['config']
    out = ['', 'Many sites: %d simulated sites (one ``SimulatorFleet``), %d integrations each, ``--forks %d``; first run and '
               'baseline once, the others the median of %d runs:' % (config['sites'], config['size'], config['forks'], config['repeat']),
           '']
    rows = [[r['scenario'], '%.2f' % r['wall_s'], '%.2f' % r['wall_min_s'], '%.2f' % r['cpu_s'], _ratio(r['vs_ping']),
             _ratio(r['vs_uri']), _ratio(r['cpu_vs_ping']), _per_site(r['logins_per_site']), _per_site(r['reads_per_site']),
             _per_site(r['writes_per_site']), '%d' % r['locks'], '%.2f' % r['lock_waits'], '%.1f %%' % (r['lock_share_of_wall'] * 100)]
            for r in sites['table']]
    out += _simple_table(['scenario', 'wall (s)', 'min (s)', 'CPU (s)', 'vs ping', 'vs uri', 'CPU vs ping', 'logins/site',
                          'reads/site', 'writes/site', 'locks', 'lock wait (s)', 'wait / wall'], rows)
    out += [''] + ['- ``%s``: %s' % (r['scenario'], SITES_HELP[r['scenario']]) for r in sites['table']]
    return out


def _per_site(values):
    return '-'.join(str(v) for v in (values[0], values[-1])) if len(values) > 1 else str(values[0])
