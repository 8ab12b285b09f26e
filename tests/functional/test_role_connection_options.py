# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 22, item 5: the role passes every connection option of the modules (the creatio.oauth.connection_options
lookup), and the play's module_defaults for the group and the CREATIO_* environment still supply the ones it leaves
unset. Real ansible-playbook runs against the simulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from helpers import WEBHOOK_USER_ID  # pylint: disable=import-error

# The site comes from the CREATIO_* environment (set by the run_playbook fixture), the cache from the play's
# module_defaults for the group, creatio_platform, request_timeout and reuse_session from the role's variables.
ROLE_PLAY = """
- name: The role with the connection options it could not take before
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      cache_path: %(cache_path)s
  roles:
    - role: creatio.oauth.integrations
      vars:
        creatio_platform: netcore
        request_timeout: %(request_timeout)s
        reuse_session: false
        creatio_integrations:
          - name: Webhooks
            preset: webhooks
            application_url: https://hooks.example.com
            system_user_id: %(user)s
"""
APPLY = 'creatio.oauth.integrations : Apply the integrations'
FINAL = 'creatio.oauth.integrations : Check that every integration was applied and verified'


def role_play(cache_path, request_timeout):
    return ROLE_PLAY % {'cache_path': cache_path, 'request_timeout': request_timeout, 'user': WEBHOOK_USER_ID}


def test_the_role_passes_creatio_platform_request_timeout_and_reuse_session(simulator, run_playbook, tmp_path, cache_path):
    simulator.configure(platform='netcore')
    group_cache = tmp_path / 'group' / 'facts.json'
    result = run_playbook(role_play(group_cache, 20))
    assert result.rc == 0, result
    log = simulator.log()
    assert [e['endpoint'] for e in log if e['kind'] == 'write'] == ['AddClient'], log
    # creatio_platform netcore: the API at the site root from the first request, nothing tried under /0
    assert [e['path'] for e in log if e['path'].startswith('/0/')] == [], log
    assert [e for e in log if e['status'] == 404] == [], log
    # the group's module_defaults still supply what the role leaves unset (cache_path); reuse_session false: no session file
    assert os.path.isdir(str(group_cache.parent / 'facts.sites')), os.listdir(str(group_cache.parent))
    assert not (group_cache.parent / 'sessions.json').exists()
    assert not os.path.exists(os.path.join(os.path.dirname(cache_path), 'sessions.json'))


def test_the_role_passes_request_timeout(simulator, run_playbook, tmp_path):
    simulator.configure(platform='netcore', faults=[{'endpoint': 'Login', 'delay': 3, 'count': None}])
    result = run_playbook(role_play(tmp_path / 'facts.json', 1))
    assert result.rc != 0, result
    message = result.task_result(FINAL)['msg']
    assert 'request_timeout (1.0 s)' in message, message
