# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23, part 3: on Creatio 8.1 a lost secrets folder is read back (GetClientSecret) with
recover_secret, through a real ansible-playbook run of creatio_oauth_clients; no secret in the output."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import shutil

from helpers import WEBHOOK_USER_ID, endpoints, play, writes  # pylint: disable=import-error

TASK = 'All integrations'
BATCH = play("""
    - name: All integrations
      creatio.oauth.creatio_oauth_clients:
        clients: "{{ batch }}"
        secrets_dir: "{{ secrets_dir }}"
      register: applied
""")


def test_a_lost_secrets_folder_is_read_back_on_81(simulator, run_playbook, tmp_path):
    simulator.configure(creatio_version='8.1')
    secrets_dir = tmp_path / 'secrets'
    item = {'name': 'Webhooks', 'preset': 'webhooks', 'application_url': 'https://hooks.example.com',
            'system_user_id': WEBHOOK_USER_ID}
    first = run_playbook(BATCH, extra_vars={'batch': [item], 'secrets_dir': str(secrets_dir)})
    assert first.rc == 0, first
    client_id = json.load(open(str(secrets_dir / 'Webhooks.json')))['client_id']
    secret = simulator.issued_secrets()['client_secrets'][client_id]
    shutil.rmtree(str(secrets_dir))

    mark = len(simulator.log())
    second = run_playbook(BATCH, extra_vars={'batch': [dict(item, recover_secret=True)], 'secrets_dir': str(secrets_dir)})
    log = simulator.log()[mark:]
    assert second.rc == 0, second
    assert second.statuses() == [(TASK, 'changed')]
    assert json.load(open(str(secrets_dir / 'Webhooks.json'))) == {
        'name': 'Webhooks', 'client_id': client_id, 'client_secret': secret, 'token_url': json.load(
            open(str(secrets_dir / 'Webhooks.json')))['token_url']}
    assert writes(log) == [] and endpoints(log).count('GetClientSecret') == 1 and 'AddClient' not in endpoints(log)
    result = second.task_result(TASK)
    assert [op['call'] for op in result['clients'][0]['operations']] == ['GetClientSecret']
    for text in (second.stdout, second.stderr):
        assert secret not in text and secret.lower() not in text
