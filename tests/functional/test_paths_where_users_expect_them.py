# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths where users expect them (issue 21 items 11-12): a relative path given to the collection's
playbooks is taken from the directory ansible-playbook was started in, never from the playbook's
folder inside the installed collection (where Ansible starts local modules); also with PWD unset, as
under ansible-runner. A missing report folder is made (0700) and the run names every file it wrote.

And the drift report of a site whose creatio_url carries user:password@ (issue 20 item 2): the
password reaches no file, no output and no callback data."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from helpers import SUPERVISOR, server_clients  # pylint: disable=import-error


def collection_files():
    """Files the run left in the playbooks folder of the installed collection (the symlinked checkout)."""
    checkout = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    return sorted(os.path.relpath(os.path.join(folder, name), checkout)
                  for folder, _dirs, names in os.walk(os.path.join(checkout, 'playbooks')) for name in names
                  if not name.endswith('.yml'))


@pytest.mark.parametrize('pwd', ['set', 'unset'])
def test_relative_secrets_dir_export_and_drift_paths_from_where_ansible_playbook_started(run_playbook, simulator, tmp_path, pwd):
    start = tmp_path / 'where-i-work'
    start.mkdir()
    env = {'PWD': str(start) if pwd == 'set' else None}
    declared = tmp_path / 'integrations.yml'
    declared.write_text(u'creatio_integrations:\n  - {name: Hooks, preset: webhooks, application_url: "https://h.example.com",'
                        u' system_user: Supervisor}\n')

    applied = run_playbook('creatio.oauth.bootstrap', cwd=start, env=env,
                           extra_args=['-e', '@%s' % declared, '-e', 'creatio_integrations_secrets_dir=mysecrets'])
    assert applied.rc == 0, applied
    assert collection_files() == []
    secret = start / 'mysecrets' / 'Hooks.json'
    assert json.loads(secret.read_text())['client_id'] == server_clients(simulator)['Hooks'][0]['clientId']
    assert stat.S_IMODE(os.stat(str(start / 'mysecrets')).st_mode) == 0o700

    exported = run_playbook('creatio.oauth.export', cwd=start, env=env, extra_args=['-e', 'creatio_sites=localhost'])
    assert exported.rc == 0, exported
    assert collection_files() == []
    assert stat.S_IMODE(os.stat(str(start / 'localhost.yml')).st_mode) == 0o600
    assert 'written to %s' % (start / 'localhost.yml') in exported.output

    checked = run_playbook('creatio.oauth.drift', cwd=start, env=env,
                           extra_args=['-e', 'creatio_sites=localhost', '-e', '@%s' % declared, '-e', 'creatio_drift_dir=reports/today'])
    assert checked.rc == 0, checked
    assert collection_files() == []
    reports = start / 'reports' / 'today'
    assert stat.S_IMODE(os.stat(str(reports)).st_mode) == 0o700
    for name in ('creatio-drift.md', 'creatio-drift.json'):
        assert stat.S_IMODE(os.stat(str(reports / name)).st_mode) == 0o600
        assert 'Report: %s' % (reports / name) in checked.output  # the run names where each file went


def test_drift_never_copies_a_password_from_a_url_with_userinfo(run_playbook, simulator, tmp_path):
    password = 'Drift-S3cret-in-the-url'
    with_userinfo = simulator.url.replace('://', '://%s:%s@' % (SUPERVISOR[0], password))
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(json.dumps({'all': {'hosts': {'site-a': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable, 'creatio_url': with_userinfo,
        'creatio_integrations': [{'name': 'Hooks', 'preset': 'webhooks', 'application_url': 'https://h.example.com',
                                  'system_user': 'Supervisor'}]}}}}))
    reports = tmp_path / 'reports'
    checked = run_playbook('creatio.oauth.drift', inventory=str(inventory), verbosity=3,
                           extra_vars={'creatio_drift_dir': str(reports)}, env={'CREATIO_URL': None})
    assert checked.rc == 0, checked
    report = json.loads((reports / 'creatio-drift.json').read_text())
    assert report['sites'][0]['url'] == simulator.url and report['sites'][0]['status'] == 'unknown'  # the module refused it
    texts = [checked.stdout, checked.stderr, json.dumps(checked.results), (reports / 'creatio-drift.md').read_text(),
             (reports / 'creatio-drift.json').read_text()]
    assert [t for t in texts if password in t] == []
    assert [e for e in simulator.log() if e['kind'] == 'write'] == []
