# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proves the functional harness itself: ansible-playbook runs, results are recorded, the simulator answers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

import pytest

# Shared constants come from helpers.py, never `from conftest import`: several conftest.py files share that name.
SIMULATOR_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'simulator', 'creatio_simulator.py')

from urllib.request import urlopen

PING_PLAYBOOK = """
- name: Harness smoke
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:

    - name: Show the environment the harness exports
      ansible.builtin.debug:
        msg:
          url: "{{ lookup('ansible.builtin.env', 'CREATIO_URL') }}"
          cache: "{{ lookup('ansible.builtin.env', 'CREATIO_CACHE_PATH') }}"
          collections: "{{ lookup('ansible.builtin.env', 'ANSIBLE_COLLECTIONS_PATH') }}"
          answer: "{{ answer | default('none') }}"

    - name: Changed on purpose
      ansible.builtin.command: "true"
      changed_when: true

    - name: Skipped on purpose
      ansible.builtin.debug:
        msg: never
      when: false

    - name: Secret
      ansible.builtin.debug:
        msg: hunter2
      no_log: true
"""


def test_playbook_runs_and_results_are_recorded(run_playbook, cache_path):
    result = run_playbook(PING_PLAYBOOK, extra_vars={'answer': 42})
    assert result.rc == 0, result
    assert result.recap == {'localhost': {'ok': 4, 'changed': 1, 'unreachable': 0, 'failed': 0,
                                          'skipped': 1, 'rescued': 0, 'ignored': 0}}, result
    assert result.statuses() == [
        ('Ping', 'ok'),
        ('Show the environment the harness exports', 'ok'),
        ('Changed on purpose', 'changed'),
        ('Skipped on purpose', 'skipped'),
        ('Secret', 'ok'),
    ]
    assert result.task_result('Ping')['ping'] == 'pong'
    msg = result.task_result('Show the environment the harness exports')['msg']
    assert msg['cache'] == cache_path
    assert msg['url'] == ''  # no simulator requested: no connection variables
    assert msg['answer'] == 42
    tree = os.path.join(msg['collections'], 'ansible_collections', 'creatio', 'oauth')
    assert os.path.exists(os.path.join(tree, 'galaxy.yml'))
    assert result.changed_tasks() == ['Changed on purpose']
    secret = result.task_result('Secret')
    assert 'hunter2' not in json.dumps(secret)
    assert 'censored' in secret


def test_check_diff_verbosity_env_and_failure(run_playbook, tmp_path):
    path = tmp_path / 'play.yml'
    path.write_text("""
- name: Failing play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Tolerated failure
      ansible.builtin.fail:
        msg: tolerated
      ignore_errors: true  # noqa: ignore-errors

    - name: Check mode seen
      ansible.builtin.debug:
        msg: "{{ ansible_check_mode }} {{ ansible_diff_mode }} {{ lookup('ansible.builtin.env', 'HARNESS_X') }}"

    - name: Real failure
      ansible.builtin.fail:
        msg: boom
""")
    result = run_playbook(str(path), check=True, diff=True, verbosity=1, env={'HARNESS_X': 'x1'})
    assert result.rc == 2, result
    assert result.recap['localhost']['failed'] == 1
    assert result.recap['localhost']['ignored'] == 1
    assert result.task_result('Check mode seen')['msg'] == 'True True x1'
    assert result.task_result('Real failure')['msg'] == 'boom'
    assert result.failed_tasks() == ['Real failure']
    assert '--check' in result.args and '--diff' in result.args and '-v' in result.args


@pytest.mark.skipif(not os.path.exists(SIMULATOR_FILE), reason='tests/simulator/creatio_simulator.py does not exist yet')
def test_simulator_answers(simulator, run_playbook):
    assert simulator.url.startswith('http://127.0.0.1:')
    with urlopen(simulator.url.rstrip('/') + '/_sim/state', timeout=10) as response:  # nosec - loopback only
        state = json.loads(response.read().decode('utf-8'))
    assert 'Supervisor' in [user['name'] for user in state['users']]
    assert simulator.state() == state
    assert simulator.identity_url == simulator.url.rstrip('/') + '/identity'

    result = run_playbook("""
- name: Login against the simulator
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Login
      ansible.builtin.uri:
        url: "{{ lookup('ansible.builtin.env', 'CREATIO_URL') }}/ServiceModel/AuthService.svc/Login"
        method: POST
        body_format: json
        headers:
          ForceUseSession: "true"
        body:
          UserName: "{{ lookup('ansible.builtin.env', 'CREATIO_USERNAME') }}"
          UserPassword: "{{ lookup('ansible.builtin.env', 'CREATIO_PASSWORD') }}"
      register: login
""")
    assert result.rc == 0, result
    login = result.task_result('Login')
    assert login['json']['Code'] == 0, login
    assert 'BPMCSRF' in login['cookies']
    assert [entry['endpoint'] for entry in simulator.log()] == ['Login']


def test_recap_with_several_hosts_and_custom_inventory(run_playbook):
    inventory = ('[group]\n'
                 'alpha ansible_connection=local ansible_python_interpreter={0}\n'
                 'beta ansible_connection=local ansible_python_interpreter={0}\n').format(sys.executable)
    result = run_playbook("""
- name: Two hosts
  hosts: group
  gather_facts: false
  tasks:
    - name: Only beta changes
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}"
      changed_when: inventory_hostname == 'beta'
""", inventory=inventory)
    assert result.rc == 0, result
    assert set(result.recap) == {'alpha', 'beta'}
    assert result.recap['alpha']['changed'] == 0
    assert result.recap['beta']['changed'] == 1
    assert [r['status'] for r in result.task('Only beta changes', host='beta')] == ['changed']
    assert result.task_result('Only beta changes', host='alpha')['msg'] == 'alpha'
