# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integrations role never ends green with a new secret lost (issue 20 item 3): its secrets
folder is removed just before AddClient is handled; the run fails naming the integration and the
file that keeps its secret (not the client_secret return value its no_log task hides), and the next
run writes the secret file from it, without creating the integration again."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil

from helpers import WEBHOOK_USER_ID  # pylint: disable=import-error

BOOTSTRAP = """
- name: The collection's bootstrap playbook
  ansible.builtin.import_playbook: creatio.oauth.bootstrap
"""
FINAL = 'creatio.oauth.integrations : Check that every integration was applied and verified'


def test_the_role_keeps_a_secret_its_folder_could_not_take_and_delivers_it_next_run(simulator, run_playbook, tmp_path, cache_path):
    secrets_dir = tmp_path / 'secrets'
    extra = {'creatio_integrations_secrets_dir': str(secrets_dir),
             'creatio_integrations': [{'name': 'Webhooks', 'preset': 'webhooks', 'application_url': 'https://hooks.example.com',
                                       'system_user_id': WEBHOOK_USER_ID}]}
    simulator.trigger('AddClient', lambda s: shutil.rmtree(str(secrets_dir)), label='secrets folder gone')
    first = run_playbook(BOOTSTRAP, extra_vars=extra)
    assert first.rc == 2 and first.failed_tasks() == [FINAL], first
    msg = first.task_result(FINAL)['msg']
    kept_folder = os.path.join(os.path.dirname(cache_path), 'kept-secrets')
    kept = [os.path.join(kept_folder, n) for n in os.listdir(kept_folder)]
    assert len(kept) == 1 and "integration 'Webhooks' was created" in msg and 'The secret is kept in %s' % kept[0] in msg, msg
    assert 'client_secret return value' not in msg, msg
    secret = json.load(open(kept[0]))['client_secret']
    assert secret not in first.stdout

    second = run_playbook(BOOTSTRAP, extra_vars=extra)
    assert second.rc == 0, second
    assert json.load(open(str(secrets_dir / 'Webhooks.json')))['client_secret'] == secret
    assert os.listdir(kept_folder) == [] and secret not in second.stdout
    assert [e['endpoint'] for e in simulator.log()].count('AddClient') == 1
