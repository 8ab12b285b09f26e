# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start / stop the Creatio simulator in the background for ansible-test integration targets.

``sim_daemon.py start --state-dir DIR [--near PATH ...]`` finds tests/simulator/creatio_simulator.py,
forks a detached child that serves it on 127.0.0.1 and a free port, waits until it listens and prints
``{"url", "identity_url", "pid", "simulator", "users"}`` as JSON; ``users`` maps the name of each
seeded user to its id, from the simulator's own data (``USERS``), so that targets never repeat them.
The child stops by itself when the ``ansible-playbook`` process that started it ends (the end of
the target run, even a failed one), on ``sim_daemon.py stop --state-dir DIR``, on SIGTERM, or after
``--max-lifetime`` seconds.

Where the simulator is looked for, first match wins:
1. ``$CREATIO_SIMULATOR`` (a file path);
2. ``<entry>/ansible_collections/creatio/oauth/tests/simulator/creatio_simulator.py`` for each entry
   of ``$ANSIBLE_COLLECTIONS_PATH`` / ``$ANSIBLE_COLLECTIONS_PATHS`` (ansible-test sets it to the
   tree holding the collection under test);
3. ``tests/simulator/creatio_simulator.py`` in any parent directory of the ``--near`` paths and of
   this file.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import importlib.util
import json
import os
import signal
import sys
import time

RELATIVE = os.path.join('tests', 'simulator', 'creatio_simulator.py')
COLLECTION = os.path.join('ansible_collections', 'creatio', 'oauth')


def find_simulator(near):
    candidates = []
    if os.environ.get('CREATIO_SIMULATOR'):
        candidates.append(os.environ['CREATIO_SIMULATOR'])
    for var in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_COLLECTIONS_PATHS'):
        for entry in os.environ.get(var, '').split(os.pathsep):
            if entry:
                candidates.append(os.path.join(os.path.expanduser(entry), COLLECTION, RELATIVE))
    for start in list(near) + [os.path.dirname(os.path.abspath(__file__))]:
        path = os.path.abspath(start)
        while True:
            candidates.append(os.path.join(path, RELATIVE))
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.realpath(candidate), candidates
    return None, candidates


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except (IOError, OSError):
        return ''


def _parent(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            data = handle.read()
        return int(data[data.rindex(')') + 2:].split()[1])
    except (IOError, OSError, ValueError, IndexError):
        return 0


def find_playbook_pid():
    """The outermost ansible-playbook ancestor (workers are forks of it and share its cmdline)."""
    found = 0
    pid = os.getppid()
    while pid > 1:
        if 'ansible-playbook' in _cmdline(pid):
            found = pid
        pid = _parent(pid)
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _load(path):
    spec = importlib.util.spec_from_file_location('creatio_simulator', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules['creatio_simulator'] = module
    spec.loader.exec_module(module)
    return module


def serve(args, simulator_path, watch_pid, state_file, stop_file):
    """Runs in the detached child."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
    module = _load(simulator_path)
    sim = module.Simulator(host=args.host, port=0)
    sim.start()
    try:
        state = {'url': sim.url, 'identity_url': sim.identity_url, 'pid': os.getpid(),
                 'simulator': simulator_path, 'watch_pid': watch_pid,
                 'users': dict((user['name'], user['id']) for user in module.USERS)}
        with open(state_file + '.tmp', 'w') as handle:
            json.dump(state, handle)
        os.rename(state_file + '.tmp', state_file)
        deadline = time.time() + args.max_lifetime
        while not stopping and not os.path.exists(stop_file) and time.time() < deadline:
            if watch_pid and not _alive(watch_pid):
                break
            time.sleep(0.3)
    finally:
        sim.stop()
        for path in (state_file, stop_file):
            if os.path.exists(path):
                os.unlink(path)


def start(args):
    simulator_path, candidates = find_simulator(args.near)
    if not simulator_path:
        print(json.dumps({'failed': True, 'msg': 'creatio_simulator.py not found', 'searched': candidates}))
        return 1
    if not os.path.isdir(args.state_dir):
        os.makedirs(args.state_dir)
    state_file = os.path.join(args.state_dir, 'state.json')
    stop_file = os.path.join(args.state_dir, 'stop')
    log_file = os.path.join(args.state_dir, 'simulator.log')
    for path in (state_file, stop_file):
        if os.path.exists(path):
            os.unlink(path)
    watch_pid = find_playbook_pid() if not args.no_watch else 0

    child = os.fork()
    if child == 0:  # detached child: new session, no inherited stdio (the command module waits for its pipes)
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        code = 0
        try:
            serve(args, simulator_path, watch_pid, state_file, stop_file)
        except BaseException:  # pylint: disable=broad-except
            import traceback
            traceback.print_exc()
            code = 1
        os._exit(code)  # pylint: disable=protected-access

    deadline = time.time() + args.start_timeout
    while time.time() < deadline:
        if os.path.exists(state_file):
            with open(state_file) as handle:
                state = json.load(handle)
            state['log'] = log_file
            state['changed'] = True
            print(json.dumps(state))
            return 0
        pid, _status = os.waitpid(child, os.WNOHANG)
        if pid:
            break
        time.sleep(0.1)
    log = ''
    if os.path.exists(log_file):
        with open(log_file) as handle:
            log = handle.read()
    print(json.dumps({'failed': True, 'msg': 'the simulator did not start', 'log': log}))
    return 1


def stop(args):
    state_file = os.path.join(args.state_dir, 'state.json')
    if not os.path.exists(state_file):
        print(json.dumps({'changed': False, 'msg': 'not running'}))
        return 0
    with open(state_file) as handle:
        pid = json.load(handle)['pid']
    with open(os.path.join(args.state_dir, 'stop'), 'w'):
        pass
    deadline = time.time() + 15
    while time.time() < deadline and os.path.exists(state_file):
        time.sleep(0.1)
    if os.path.exists(state_file) and _alive(pid):
        os.kill(pid, signal.SIGTERM)
    print(json.dumps({'changed': True, 'pid': pid}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=('start', 'stop'))
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--near', action='append', default=[], help='search upward from here too')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--max-lifetime', type=float, default=3600.0)
    parser.add_argument('--start-timeout', type=float, default=30.0)
    parser.add_argument('--no-watch', action='store_true', help='do not stop with the ansible-playbook process')
    args = parser.parse_args()
    return start(args) if args.action == 'start' else stop(args)


if __name__ == '__main__':
    sys.exit(main())
