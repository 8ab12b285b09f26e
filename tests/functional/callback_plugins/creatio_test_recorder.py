# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: one JSON line per task result, for tests/functional/conftest.py.

Enabled by the harness through ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED; writes to the
file named by CREATIO_TEST_RESULTS_FILE (does nothing when that variable is unset). Each line is
``{"task", "host", "status", "action", "role", "play", "ignore_errors", "result"}`` where status is
ok / changed / failed / skipped / unreachable and result is the (already censored: no_log) result
dict Ansible hands to callbacks.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: creatio_test_recorder
type: aggregate
short_description: Records every task result as a JSON line (test harness only)
description:
  - Appends one JSON object per task result to the file named by E(CREATIO_TEST_RESULTS_FILE).
requirements:
  - enable in configuration
"""

import json
import os

from ansible.plugins.callback import CallbackBase

ENV_FILE = 'CREATIO_TEST_RESULTS_FILE'


def _result_dict(result):
    # ansible-core 2.19+: CallbackTaskResult.result (native types); older: TaskResult._result
    data = getattr(result, 'result', None)
    if not isinstance(data, dict):
        data = getattr(result, '_result', None)
    return dict(data or {})


def _task(result):
    return getattr(result, 'task', None) or getattr(result, '_task', None)


def _host_name(result):
    host = getattr(result, 'host', None) or getattr(result, '_host', None)
    return host.get_name() if host is not None else None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'creatio_test_recorder'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get(ENV_FILE)
        self._play = None

    def _record(self, result, status, ignore_errors=False):
        if not self._path:
            return
        task = _task(result)
        role = getattr(task, '_role', None)
        data = _result_dict(result)
        line = {
            'task': task.get_name() if task is not None else None,
            'host': _host_name(result),
            'status': status,
            'action': getattr(task, 'action', None),
            'role': role.get_name() if role is not None else None,
            'play': self._play,
            'ignore_errors': bool(ignore_errors),
            'result': data,
        }
        with open(self._path, 'a') as handle:
            handle.write(json.dumps(line, default=str, sort_keys=True) + '\n')

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_ok(self, result):
        self._record(result, 'changed' if _result_dict(result).get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')
