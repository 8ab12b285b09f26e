# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point: ``python tools/bench`` (what ``make bench`` runs). See the package docstring."""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

if __package__ in (None, ''):  # run as ``python tools/bench``: import the package from tools/
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench  # noqa: E402  pylint: disable=wrong-import-position
from bench.common import (ALL_SCENARIOS, BIN_DIR, COLLECTION_SCENARIOS, DEFAULT_OUTPUT, DEFAULT_SCENARIOS,  # noqa: E402
                          OPT_IN_SCENARIOS, ROLE_TASKS, SCENARIO_HELP, SITES_SCENARIO)
from bench.micro import cache_bench, startup_bench  # noqa: E402
from bench.report import (_loadavg, machine, print_report, rst_tables, sites_summary, sites_targets,  # noqa: E402
                          summarise, targets)
from bench.runner import Bench, SitesBench  # noqa: E402

# ---------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=bench.__doc__.split('\n\n', maxsplit=1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', help='numbers of integrations, comma separated (default 1,10,50)')
    parser.add_argument('--repeat', type=int, help='runs per scenario; the median is reported (default 3)')
    parser.add_argument('--cache-sizes', help='clients in the facts cache micro benchmark (default 10,500,5000)')
    parser.add_argument('--quick', action='store_true',
                        help='defaults become: sizes 1,10, one run each, cache sizes 10,500; 10 sites x 5 integrations, forks 5')
    parser.add_argument('--via', choices=('auto', 'role', 'loop'), default='auto',
                        help='how the collection is driven: the integrations role (auto: when it exists) or one looping task')
    parser.add_argument('--scenarios', default=','.join(DEFAULT_SCENARIOS),
                        help='default: %s; also: %s' % (', '.join(DEFAULT_SCENARIOS), ', '.join(OPT_IN_SCENARIOS)))
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='JSON results file (default build/bench/results.json)')
    parser.add_argument('--strict', action='store_true', help='exit 1 when a timing target is missed too')
    parser.add_argument('--keep', action='store_true', help='keep the work directory (playbooks, caches)')
    group = parser.add_argument_group('many sites (scenario "sites")')
    group.add_argument('--sites', type=int, help='simulated sites (default 50)')
    group.add_argument('--site-integrations', type=int, help='integrations per site (default 10)')
    group.add_argument('--forks', type=int, help='ansible-playbook --forks (default 10)')
    group.add_argument('--sites-repeat', type=int, help='runs of rerun, check and ping; the median is reported (default 3)')
    group.add_argument('--no-sites-baseline', dest='sites_baseline', action='store_false',
                       help='skip the uri baseline on the sites (the longest run; the first-run target against it is then not checked)')
    args = parser.parse_args(argv)
    for key, full, quick in (('sizes', '1,10,50', '1,10'), ('repeat', 3, 1), ('cache_sizes', '10,500,5000', '10,500'),
                             ('sites', 50, 10), ('site_integrations', 10, 5), ('forks', 10, 5), ('sites_repeat', 3, 1)):
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    args.size_list = sorted(set(int(x) for x in args.sizes.split(',') if x.strip()))
    args.cache_size_list = [int(x) for x in args.cache_sizes.split(',') if x.strip()]
    args.scenario_list = [s.strip() for s in args.scenarios.split(',') if s.strip()]
    unknown = set(args.scenario_list) - set(ALL_SCENARIOS + (SITES_SCENARIO,))
    if unknown or args.repeat < 1 or not args.size_list or min(args.size_list) < 1:
        parser.error('bad --scenarios/--repeat/--sizes')
    if min(args.sites, args.site_integrations, args.forks, args.sites_repeat) < 1:
        parser.error('bad --sites/--site-integrations/--forks/--sites-repeat')
    if args.via == 'auto':
        args.via = 'role' if os.path.exists(ROLE_TASKS) else 'loop'
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.exists(os.path.join(BIN_DIR, 'ansible-playbook')):
        print('ansible-playbook is not beside %s: run this with the tools venv (make bench)' % sys.executable, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix='creatio-bench-')
    runner = Bench(args, work)
    sites_runner = None
    sites_out = {}
    raw = {}
    started = time.time()
    info = machine()
    try:
        runner.setup()
        collection_wanted = [s for s in args.scenario_list if s in COLLECTION_SCENARIOS]
        for repetition in range(args.repeat):
            for size in args.size_list:
                per_size = raw.setdefault(str(size), {})
                print('[%4.0f s] repetition %d/%d, N=%d' % (time.time() - started, repetition + 1, args.repeat, size), flush=True)
                if collection_wanted:
                    for scenario, result in runner.collection_runs(size, args.via, collection_wanted).items():
                        if scenario in collection_wanted:
                            per_size.setdefault(scenario, []).append(result)
                if 'baseline' in args.scenario_list:
                    per_size.setdefault('baseline', []).append(runner.baseline_run(size))
                if 'floor' in args.scenario_list:
                    per_size.setdefault('floor', []).append(runner.floor_run(size))
        if SITES_SCENARIO in args.scenario_list:
            print('[%4.0f s] many sites: %d sites x %d integrations, forks %d' % (
                time.time() - started, args.sites, args.site_integrations, args.forks), flush=True)
            sites_runner = SitesBench(args.sites, args.site_integrations, args.forks, work, runner.collections)
            sites_runner.setup()
            sites_out = sites_runner.runs(args.sites_repeat, baseline=args.sites_baseline)
        print('[%4.0f s] micro benchmarks' % (time.time() - started), flush=True)
        cache_rows = cache_bench(args.cache_size_list, runner.collections) if args.cache_size_list else []
        startup = startup_bench(runner.collections, 3 if args.quick else 7)
    finally:
        runner.close()
        if sites_runner is not None:
            sites_runner.close()
        if args.keep:
            print('work directory kept: %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    info['loadavg_end'] = _loadavg()
    info['bench_seconds'] = round(time.time() - started, 1)
    table, marginal, marginal_cpu = summarise(raw, args.size_list)
    result = {
        'machine': info,
        'config': {'sizes': args.size_list, 'repeat': args.repeat, 'via': args.via, 'cache_sizes': args.cache_size_list,
                   'scenarios': dict((s, SCENARIO_HELP[s]) for s in args.scenario_list), 'output': args.output},
        'table': table, 'marginal': marginal, 'marginal_cpu': marginal_cpu, 'cache': cache_rows, 'startup': startup,
        'checks': runner.checks + (sites_runner.checks if sites_runner else []), 'raw': raw,
    }
    result['targets'] = targets(table, marginal, marginal_cpu, cache_rows, runner.checks, args.size_list)
    if sites_runner is not None:
        config = {'sites': args.sites, 'size': args.site_integrations, 'forks': args.forks, 'repeat': args.sites_repeat}
        result['sites'] = {'config': config, 'table': sites_summary(sites_out), 'raw': sites_out}
        result['targets'] += sites_targets(result['sites']['table'], config, sites_runner.checks)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=1, sort_keys=True)
        handle.write('\n')
    with open(os.path.splitext(args.output)[0] + '.rst', 'w', encoding='utf-8') as handle:
        handle.write(rst_tables(result))
    print_report(result)
    failed_checks = [c for c in result['checks'] if not c['ok']]
    missed = [t for t in result['targets'] if not t['ok']]
    if failed_checks or (args.strict and missed):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
