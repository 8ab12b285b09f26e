# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""creatio_site_check and the creatio.oauth.site_check playbook (issue 13): each platform and version
reported correctly, and nothing written (the simulator's state and log prove it)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from helpers import writes  # pylint: disable=import-error

SITE_CHECK = """
- name: The collection's site check playbook
  ansible.builtin.import_playbook: creatio.oauth.site_check
"""
TASK = 'Check the site (read-only)'


def _checks(result):
    return dict((c['check'], c) for c in result.task_result(TASK)['checks'])


@pytest.mark.parametrize('platform', ['netframework', 'netcore'])
@pytest.mark.parametrize('version', ['8.3', '8.1'])
def test_the_site_check_reports_each_platform_and_version_and_writes_nothing(simulator, run_playbook, platform, version):
    simulator.configure(platform=platform, creatio_version=version)
    before = simulator.state()
    result = run_playbook(SITE_CHECK, env={'CREATIO_IDENTITY_URL': None})
    assert result.rc == 0, result
    checks = _checks(result)
    task = result.task_result(TASK)
    assert checks['login']['status'] == 'ok'
    assert checks['platform']['status'] == 'ok' and platform in checks['platform']['detail']
    assert task['site']['platform'] == platform
    assert checks['read the integrations (OData OAuthClientApp)']['status'] == 'ok'
    assert checks['read the users (OData SysAdminUnit)']['status'] == 'ok'
    if version == '8.3':
        assert checks['OpenID configuration']['status'] == 'ok'
        assert checks['identity service']['status'] == 'ok' and 'discovered' in checks['identity service']['detail']
        assert checks['redirect-URI entity']['status'] == 'ok'
        assert task['site']['creatio_version'] == '8.3 or later'
        assert task['ok'] is True, task['report']
    else:
        assert checks['OpenID configuration']['status'] == 'skipped'
        # no token URL anywhere (not cloud, none given, none published): said, not guessed
        assert checks['identity service']['status'] == 'failed'
        assert 'creatio_identity_url' in checks['identity service']['detail']
        assert task['site']['creatio_version'] == 'before 8.3'
        assert task['failed_checks'] == ['identity service']
    verdicts = dict((a['assumption'], a['verdict']) for a in task['assumptions'])
    assert verdicts['An administrator can read OAuthClientApp through OData'] == 'confirmed'
    # nothing written: no write request, and the state is what it was
    assert writes(simulator.log()) == [] and simulator.state()['clients'] == before['clients']
    assert task['report'][0].startswith('Creatio site check of ')
    assert result.task_result('Report')['msg'] == task['report']
    assert 'Supervisor' not in ''.join(task['report']).replace('logged in as Supervisor', '')


def test_the_site_check_says_what_is_refused(simulator, run_playbook):
    simulator.configure(odata_status=403, sysadminunit_status=403)
    result = run_playbook(SITE_CHECK, env={'CREATIO_IDENTITY_URL': simulator.identity_url})
    assert result.rc == 0, result
    task = result.task_result(TASK)
    checks = _checks(result)
    assert checks['read the integrations (OData OAuthClientApp)']['status'] == 'failed'
    assert 'HTTP 403' in checks['read the integrations (OData OAuthClientApp)']['detail']
    assert checks['identity service']['status'] == 'ok' and 'given' in checks['identity service']['detail']
    verdicts = dict((a['assumption'], a['verdict']) for a in task['assumptions'])
    assert verdicts['An administrator can read OAuthClientApp through OData'] == 'refuted'
    assert task['ok'] is False and 'read the integrations (OData OAuthClientApp)' in task['failed_checks']
    assert writes(simulator.log()) == []
