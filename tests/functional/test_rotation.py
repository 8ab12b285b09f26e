# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23, rotation: the role creatio.oauth.integrations with rotate_after_days and a secret store
(a real OpenBao dev server), against the simulator. Assertions are on what the simulator holds and
received, and on what Vault holds."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import signal

import pytest

from helpers import POWERBI_USER_ID, endpoints  # pylint: disable=import-error
from test_secret_stores import (  # noqa: F401  pylint: disable=import-error,unused-import
    APPLY, FINAL, ROLE, ROLE_PLAY, assert_nowhere, bao, kv_path, new_secrets, vault_env)

RETIRED = re.compile(r'^PowerBI \(retired \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, rotated\)$')


def rotating(days, grace=None, **item):
    variables = {'creatio_integrations': [dict({'name': 'PowerBI', 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID,
                                                'rotate_after_days': days}, **item)],
                 'creatio_integrations_secret_store': {'type': 'vault_kv2'}}
    if grace is not None:
        variables['creatio_integrations_rotation_grace_hours'] = grace
    return variables


def clients(sim):
    """[(name, client id, active)] of the integrations the runs made (the automation client is seeded)."""
    return sorted((c['name'], c['clientId'], c['isActive']) for c in sim.state()['clients'] if not c.get('seeded'))


def named(sim, name='PowerBI'):
    return [c for c in clients(sim) if c[0] == name]


def retired(sim):
    return [c for c in clients(sim) if RETIRED.match(c[0])]


def held(bao_server, sim):
    return bao_server.kv_read(kv_path(sim, 'PowerBI'))


def summary_of(result):
    return '\n'.join(result.task_result(ROLE + 'Summary')['msg'])


def test_rotation_now_then_quiet_then_grace_zero(simulator, run_playbook, bao):  # noqa: F811
    env = vault_env(bao)
    first = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert first.rc == 0, first
    ((_n, old_id, _a),) = clients(simulator)  # created by this run: not rotated at once
    assert held(bao, simulator)['client_id'] == old_id

    check = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env, check=True)
    assert check.rc == 0, check
    assert 'would rotate' in check.stdout and 'rotate_after_days is 0' in check.stdout
    assert clients(simulator) == [('PowerBI', old_id, True)]

    mark = len(simulator.log())
    second = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert second.rc == 0, second
    writes = endpoints(simulator.log()[mark:], 'write')
    assert writes == ['UpdateClient', 'AddClient'], writes  # renamed, then the successor; the predecessor keeps working
    assert 'Token' in endpoints(simulator.log()[mark:])  # the successor was verified
    ((_n, new_id, _a),) = named(simulator)
    assert new_id != old_id
    assert [(c[1], c[2]) for c in retired(simulator)] == [(old_id, True)]
    document = held(bao, simulator)
    assert document['client_id'] == new_id and document['client_secret'] == new_secrets(simulator)[new_id]
    assert bao.kv_metadata(kv_path(simulator, 'PowerBI'))['current_version'] == 2
    assert_nowhere(list(new_secrets(simulator).values()), second.stdout, second.stderr)
    summary = summary_of(second)
    assert 'rename PowerBI (client id %s)' % old_id in summary and 'next rotation' in summary, summary

    # a positive N: nothing is due, nothing is written; the summary shows the age and the next rotation
    mark = len(simulator.log())
    quiet = run_playbook(ROLE_PLAY, extra_vars=rotating(30), env=env)
    assert quiet.rc == 0, quiet
    assert endpoints(simulator.log()[mark:], 'write') == []
    assert 'age 0.0 days, next rotation' in summary_of(quiet), summary_of(quiet)
    # still due with 0, but the predecessor is in its grace period: never a third integration
    mark = len(simulator.log())
    waiting = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert waiting.rc == 0, waiting
    assert endpoints(simulator.log()[mark:], 'write') == []
    assert 'is retiring until' in summary_of(waiting), summary_of(waiting)

    # grace 0: the retiring predecessor goes, then the rotation runs and retires its own predecessor at once
    mark = len(simulator.log())
    third = run_playbook(ROLE_PLAY, extra_vars=rotating(0, grace=0), env=env)
    assert third.rc == 0, third
    writes = endpoints(simulator.log()[mark:], 'write')
    assert writes == ['UpdateClient', 'DeleteClient', 'UpdateClient', 'AddClient', 'UpdateClient', 'DeleteClient'], writes
    ((_n, newest_id, active),) = clients(simulator)
    assert active and newest_id not in (old_id, new_id)
    assert held(bao, simulator)['client_id'] == newest_id


def test_failed_verification_rolls_back(simulator, run_playbook, bao):  # noqa: F811
    env = vault_env(bao)
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0
    ((_n, old_id, _a),) = clients(simulator)
    simulator.configure(faults=[{'endpoint': 'Token', 'status': 400, 'count': 10}])
    result = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert result.rc == 2, result
    assert 'the rotation was rolled back' in result.task_result(FINAL)['msg']
    assert clients(simulator) == [('PowerBI', old_id, True)]  # the successor deleted, the old one has its name
    assert held(bao, simulator)['client_id'] == old_id
    assert bao.kv_metadata(kv_path(simulator, 'PowerBI'))['current_version'] == 1


def test_rotation_killed_after_add_client_converges(simulator, run_playbook, bao):  # noqa: F811
    env = vault_env(bao)
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0
    ((_n, old_id, _a),) = clients(simulator)
    # AddClient acts, and its answer never comes: the successor's secret is lost with it
    simulator.configure(faults=[{'endpoint': 'AddClient', 'drop': True, 'phase': 'after', 'count': 1}])
    killed = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert killed.rc == 2, killed
    assert len(clients(simulator)) == 2 and len(named(simulator)) == 1 and len(retired(simulator)) == 1
    assert held(bao, simulator)['client_id'] == old_id  # the old one untouched, still delivered
    simulator.configure(faults=[])
    mark = len(simulator.log())
    again = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert again.rc == 0, again
    writes = endpoints(simulator.log()[mark:], 'write')
    # rolled back (the undelivered successor deleted, the name given back), then rotated again
    assert writes == ['DeleteClient', 'UpdateClient', 'UpdateClient', 'AddClient'], writes
    ((_n, new_id, _a),) = named(simulator)
    assert [c[1] for c in retired(simulator)] == [old_id] and len(clients(simulator)) == 2
    assert held(bao, simulator)['client_id'] == new_id


def test_rotation_needs_a_secret_store(simulator, run_playbook):
    variables = rotating(0)
    del variables['creatio_integrations_secret_store']
    result = run_playbook(ROLE_PLAY, extra_vars=variables)
    assert result.rc == 2, result
    assert 'rotation needs a secret store' in result.task_result(FINAL)['msg']
    assert simulator.log() == []


def _kill_the_playbook(_sim):
    """SIGKILL the ansible-playbook this test started, and everything under it (the module process among them)."""
    parents = {}
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % pid) as handle:
                parents[int(pid)] = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    playbooks = []
    for pid, parent in parents.items():
        if parent == os.getpid():
            try:
                with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                    if b'ansible-playbook' in handle.read():
                        playbooks.append(pid)
            except OSError:
                pass
    doomed, found = set(playbooks), True
    while found:
        found = [pid for pid, parent in parents.items() if parent in doomed and pid not in doomed]
        doomed.update(found)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize('step', ['UpdateClient', 'Token'])
def test_rotation_killed_at_a_step_converges_with_at_most_two_of_the_name(simulator, run_playbook, bao, step):  # noqa: F811
    """SIGKILL of ansible-playbook when the rename reaches Creatio (it is done, nothing else), or when the
    successor is verified (created, not delivered): the next run rolls back and rotates again."""
    env = vault_env(bao)
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0
    ((_n, old_id, _a),) = clients(simulator)
    simulator.trigger(step, _kill_the_playbook, label='kill')
    killed = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert killed.rc != 0 and simulator.fired == ['kill'], killed
    simulator.wait_settled()
    assert len(named(simulator)) <= 1 and len(clients(simulator)) <= 2
    assert [c[1] for c in retired(simulator)] == [old_id]
    assert held(bao, simulator)['client_id'] == old_id
    again = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert again.rc == 0, again
    ((_n, new_id, _a),) = named(simulator)
    assert new_id != old_id and [c[1] for c in retired(simulator)] == [old_id] and len(clients(simulator)) == 2
    document = held(bao, simulator)
    assert document['client_id'] == new_id and document['client_secret'] == new_secrets(simulator)[new_id]


def test_without_odata_the_age_is_unknown_and_nothing_rotates(simulator, run_playbook, bao):  # noqa: F811
    env = vault_env(bao)
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0
    before = clients(simulator)
    simulator.configure(odata_status=403)
    mark = len(simulator.log())
    result = run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env)
    assert result.rc == 0, result
    assert endpoints(simulator.log()[mark:], 'write') == [] and clients(simulator) == before
    assert 'rotation was not decided' in result.stdout + result.stderr
    assert 'rotation: not decided' in summary_of(result), summary_of(result)


def test_a_store_that_holds_neither_client_rolls_nothing_back(simulator, run_playbook, bao):  # noqa: F811
    """After a finished rotation the store is changed by someone else: which integration is in use cannot be
    told from it, so the successor (maybe in use) is not deleted on a guess."""
    env = vault_env(bao)
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0
    assert run_playbook(ROLE_PLAY, extra_vars=rotating(0), env=env).rc == 0  # rotated; the predecessor retiring
    before = clients(simulator)
    assert len(before) == 2
    bao.kv_write(kv_path(simulator, 'PowerBI'), {'name': 'PowerBI', 'client_id': 'F' * 32, 'client_secret': 's' * 64})
    mark = len(simulator.log())
    result = run_playbook(ROLE_PLAY, extra_vars=rotating(30), env=env)
    assert result.rc == 2, result
    assert endpoints(simulator.log()[mark:], 'write') == [] and clients(simulator) == before
    assert 'which integration of the name is its successor cannot be told' in result.task_result(FINAL)['msg']
