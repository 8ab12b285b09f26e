# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 22, item 6: run_module is the one exit of every module. A missing requests and the drift report's
failures are typed errors that reach it, so a failure keeps the run's warnings and its structured error."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _transport as transport
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module
from ansible_collections.creatio.oauth.plugins.modules import creatio_drift_report
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import FakeModule

IMPORT_TRACEBACK = 'Traceback (most recent call last):\nImportError: No module named requests\n'


class ExitingModule(FakeModule):
    """Exits as AnsibleModule does (SystemExit, which no ``except Exception`` catches), keeping what it exited with."""

    def __init__(self, params, check_mode=False):
        super(ExitingModule, self).__init__(params, check_mode=check_mode)
        self.exited = None

    def fail_json(self, **kwargs):
        self.exited = ('fail', kwargs)
        raise SystemExit(1)

    def exit_json(self, **kwargs):
        self.exited = ('exit', kwargs)
        raise SystemExit(0)


def params(tmp_path):
    # validate_certs false: a warning the run makes before it needs requests
    return {'creatio_url': 'https://site.example', 'creatio_username': 'Supervisor', 'creatio_password': 'Pa55-word-1',
            'creatio_client_id': None, 'creatio_client_secret': None, 'creatio_identity_url': None,
            'creatio_platform': 'auto', 'validate_certs': False, 'ca_path': None, 'request_timeout': 5.0,
            'cache_path': str(tmp_path / 'cache' / 'facts.json'), 'reuse_session': True}


def swallowing_item_errors(use):
    """A service that turns a CreatioError into one item's failure, as the batch does."""
    def service(run):
        try:
            use(run)
        except CreatioError as exc:
            return {'changed': False, 'item_error': str(exc)}
        return {'changed': False}
    return service


@pytest.mark.parametrize('use', [lambda run: run.client, lambda run: run.transport()], ids=['client', 'transport'])
def test_a_missing_requests_fails_through_run_module_with_the_warnings(tmp_path, monkeypatch, use):
    monkeypatch.setattr(transport, 'HAS_REQUESTS', False)
    monkeypatch.setattr(transport, 'REQUESTS_IMPORT_ERROR', IMPORT_TRACEBACK)
    module = ExitingModule(params(tmp_path))
    with pytest.raises(SystemExit):
        run_module(module, swallowing_item_errors(use))
    kind, result = module.exited
    assert kind == 'fail', result
    assert 'requests' in result['msg'] and result['exception'] == IMPORT_TRACEBACK
    assert result['error']['type'] == 'MissingLibraryError' and result['changed'] is False
    assert [w for w in module.warnings if w.startswith('validate_certs is false')], module.warnings
    assert 'Pa55-word-1' not in repr(result)


def drift_module(monkeypatch, module_params):
    module = ExitingModule(dict({'sites': [{'site': 'a', 'url': None, 'declared': ['X'], 'results': [], 'error': 'down'}],
                                 'markdown_path': None, 'json_path': None, 'fail_on_drift': False}, **module_params))
    monkeypatch.setattr(creatio_drift_report, 'AnsibleModule', lambda **kwargs: module)
    with pytest.raises(SystemExit):
        creatio_drift_report.main()
    return module.exited


def test_the_drift_report_fails_through_run_module(tmp_path, monkeypatch):
    kind, result = drift_module(monkeypatch, {'markdown_path': str(tmp_path / 'drift.md'),
                                              'json_path': str(tmp_path / 'no' / 'drift.json')})
    assert kind == 'fail' and result['error']['type'] == 'ConfigurationError' and result['error']['option'] == 'json_path'
    assert 'does not exist' in result['msg'] and 'hint: make the folder first' in result['msg']
    assert os.listdir(str(tmp_path)) == []  # both folders are checked before either file is written

    (tmp_path / 'drift.json').mkdir()  # a folder where the JSON file goes: it cannot be written
    kind, result = drift_module(monkeypatch, {'markdown_path': str(tmp_path / 'drift.md'), 'json_path': str(tmp_path / 'drift.json')})
    assert kind == 'fail' and result['error']['type'] == 'LocalFileError' and 'cannot write' in result['msg']
    assert result['files'] == [str(tmp_path / 'drift.md')] and result['changed'] is True  # written before the failure


def test_the_drift_gate_fails_with_the_report(tmp_path, monkeypatch):
    kind, result = drift_module(monkeypatch, {'fail_on_drift': True})
    assert kind == 'fail' and result['msg'] == 'drift: 0 of 1 site(s) in line, 0 with drift, 1 unknown'
    assert result['report']['summary']['sites_unknown'] == 1 and result['in_line'] is False
    kind, result = drift_module(monkeypatch, {})
    assert kind == 'exit' and result['in_line'] is False
