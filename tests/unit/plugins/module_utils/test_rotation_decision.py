# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotation (_rotation.py, issue 23): the pure decision, the retired name, the checks before any
request, and what the role's report and the drift report show of it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _drift as drift
from ansible_collections.creatio.oauth.plugins.module_utils import _export as export
from ansible_collections.creatio.oauth.plugins.module_utils import _report as report
from ansible_collections.creatio.oauth.plugins.module_utils import _rotation as rotation
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0)


def test_due_after_n_days_and_always_with_zero():
    created = NOW - datetime.timedelta(days=10)
    assert rotation.is_due(created, 30, NOW) == (False, created + datetime.timedelta(days=30))
    assert rotation.is_due(created, 10, NOW) == (True, NOW)
    assert rotation.is_due(created, 9, NOW)[0] is True
    assert rotation.is_due(NOW, 0, NOW) == (True, NOW)  # 0: every run
    assert rotation.is_due(None, 5, NOW) == (None, None)  # the age unknown: never guessed


def test_created_on_stamps_read_as_utc():
    assert rotation.parse_stamp('2026-12-01T08:30:05.123Z') == datetime.datetime(2026, 12, 1, 8, 30, 5)
    assert rotation.parse_stamp('2026-12-01T08:30:05+02:00') == datetime.datetime(2026, 12, 1, 6, 30, 5)
    assert rotation.parse_stamp('2026-12-01 08:30:05') == datetime.datetime(2026, 12, 1, 8, 30, 5)
    assert rotation.parse_stamp('yesterday') is None and rotation.parse_stamp(None) is None


def test_retired_name_is_recognised_for_its_own_name_only():
    name = rotation.retired_name("O'Hooks (eu)", NOW)
    assert name == "O'Hooks (eu) (retired 2026-12-06T12:00:00Z, rotated)"
    assert rotation.retired_at("O'Hooks (eu)", name) == NOW
    assert rotation.retired_at("O'Hooks", name) is None  # another integration's predecessor
    assert rotation.retired_at("O'Hooks (eu)", "O'Hooks (eu)") is None
    assert rotation.retired_at("O'Hooks (eu)", "O'Hooks (eu) (retired soon, rotated)") is None


def test_retirement_after_the_grace_period():
    retired = NOW - datetime.timedelta(hours=5)
    assert rotation.retirement_step(retired, 24, NOW, True) is None
    assert rotation.retirement_step(retired, 5, NOW, True) == 'deactivate'
    assert rotation.retirement_step(retired, 5, NOW, False) == 'delete'  # a later run
    assert rotation.retirement_step(NOW, 0, NOW, True) == 'deactivate+delete'  # grace 0: at once


def declared(**params):
    return rotation.declared(Declaration(name='Outlook', state='present', grant_type='authorization_code',
                                         rotate_authorization_code=bool(params.pop('rotate_authorization_code', False)), **params))


def test_bad_rotation_input_is_refused_before_any_request():
    with pytest.raises(ConfigurationError) as caught:
        declared(rotate_after_days=-1)
    assert caught.value.option == 'rotate_after_days'
    with pytest.raises(ConfigurationError) as caught:
        declared(rotate_after_days=30)
    assert 'consent again' in caught.value.message and 'rotate_authorization_code' in caught.value.hint
    assert declared(rotate_after_days=30, rotate_authorization_code=True).rotate_after_days == 30
    assert declared().rotate_after_days is None


def test_rotation_needs_a_secret_store():
    class Run(object):
        secret_delivery = None
    with pytest.raises(ConfigurationError) as caught:
        rotation.check_store(Run(), [Declaration(name='A', state='present', rotate_after_days=None),
                                     Declaration(name='B', state='present', rotate_after_days=0)], where=lambda n: 'clients[%d]' % n)
    assert caught.value.option == 'clients[1].rotate_after_days' and 'secret store' in caught.value.message
    rotation.check_store(Run(), [Declaration(name='A', state='present', rotate_after_days=None)])


class Item(object):
    name, preset, secret_file = 'PowerBI', 'powerbi', None
    desired = Declaration(state='present', grant_type='client_credentials')


def test_the_report_shows_age_and_next_rotation_and_a_rotation_is_an_update():
    quiet = {'changed': False, 'client': {'client_id': 'A'}, 'operations': [], 'compared': [], 'not_compared': [],
             'rotation': {'rotate_after_days': 30, 'age_days': 3.5, 'next_rotation': '2027-01-01T00:00:00Z', 'due': False}}
    rotated = {'changed': True, 'client': {'client_id': 'B'}, 'compared': [], 'not_compared': [], 'operations': [
        {'call': 'UpdateClient', 'summary': 'rename', 'request': {'clientId': 'A', 'name': 'PowerBI (retired ...)'}},
        {'call': 'AddClient', 'summary': 'create', 'request': {'name': 'PowerBI'}}],
        'rotation': {'rotate_after_days': 0, 'age_days': 0.0, 'next_rotation': '2026-12-06T12:00:00Z', 'would_rotate': True,
                     'reason': 'rotate_after_days is 0: every run rotates',
                     'retiring': [{'name': 'x', 'client_id': 'A', 'deactivate_after': '2026-12-07T12:00:00Z', 'active': True}]}}
    entries, lines = report.build([Item(), Item()], [quiet, rotated], True, None)
    assert entries[0]['action'] == 'unchanged' and entries[1]['action'] == 'updated' and entries[1]['fields'] == ['rotation']
    text = '\n'.join(lines)
    assert 'rotation: age 3.5 days, next rotation 2027-01-01T00:00:00Z' in text
    assert 'would rotate: rotate_after_days is 0' in text and 'predecessor A retiring until 2026-12-07T12:00:00Z' in text

    results = {'site': 's1', 'url': 'https://s1.example', 'declared': ['PowerBI'], 'results': [entries[0]], 'error': None}
    drift_report = drift.build_report([results])
    assert drift_report['sites'][0]['integrations'][0]['rotation']['next_rotation'] == '2027-01-01T00:00:00Z'
    assert '- s1 / PowerBI: age 3.5 days, next rotation 2027-01-01T00:00:00Z' in drift.markdown(drift_report)
    assert 's1: PowerBI: age 3.5 days, next rotation 2027-01-01T00:00:00Z' in drift.text_lines(drift_report)
    results['results'] = [entries[1]]
    assert drift.classify_site(results)['integrations'][0]['state'] == drift.WOULD_UPDATE


def test_the_export_leaves_a_retired_predecessor_out():
    def listed(name, client_id):
        return dict(Record(name, client_id=client_id, grant_type='client_credentials', application_url='https://app.powerbi.com',
                           system_user_id='6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01', active=True, redirect_urls=[]).view(),
                    source='server')
    warnings = []
    retired = rotation.retired_name('PowerBI', NOW)
    items = export.integrations([listed('PowerBI', 'B' * 32), listed(retired, 'A' * 32), listed('Other (retired x)', 'C' * 32)],
                                warn=warnings.append)
    assert [i['name'] for i in items] == ['Other (retired x)', 'PowerBI']
    assert rotation.predecessor_of(retired) == 'PowerBI' and rotation.predecessor_of('PowerBI') is None
    assert [w for w in warnings if 'retired by a rotation' in w and retired in w], warnings
