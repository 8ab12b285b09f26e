# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo` (tools/demo.py) shows what a user sees: no warning about the tools venv itself
(issue 21, item 14: a CryptographyDeprecationWarning about DSA, twice on every command)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os
import subprocess

import pytest

from helpers import BIN_DIR, ROOT  # pylint: disable=import-error

WARNING = 'CryptographyDeprecationWarning'


def _demo():
    spec = importlib.util.spec_from_file_location('creatio_demo', os.path.join(ROOT, 'tools', 'demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ansible_stderr(tmp_path, python_warnings):
    """A demo-like command (the venv's ansible, a fresh ANSIBLE_HOME) with PYTHONWARNINGS as given."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_') and k != 'PYTHONWARNINGS')
    env.update(PATH=BIN_DIR + os.pathsep + env.get('PATH', ''), ANSIBLE_HOME=str(tmp_path / 'home'),
               ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
    if python_warnings is not None:
        env['PYTHONWARNINGS'] = python_warnings
    done = subprocess.run([os.path.join(BIN_DIR, 'ansible'), 'localhost', '-m', 'ansible.builtin.ping'], env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stderr


def test_the_demos_commands_show_no_cryptography_deprecation_warning(tmp_path):
    if WARNING not in _ansible_stderr(tmp_path, None):
        pytest.skip('this venv\'s ansible shows no %s: nothing for the demo to filter' % WARNING)
    demo = _demo()
    stderr = _ansible_stderr(tmp_path, demo.python_warnings(None))
    assert WARNING not in stderr, stderr
    # a user's own filters stay, the demo's is added
    assert demo.python_warnings('error::ResourceWarning') == 'error::ResourceWarning,' + demo.QUIET_WARNINGS


def test_the_filter_hides_only_the_dsa_warning(tmp_path):
    """Nothing else is hidden: another warning of the same kind still shows."""
    demo = _demo()
    env = dict(os.environ, PYTHONWARNINGS=demo.python_warnings(None))
    script = ('import warnings\n'
              'warnings.warn("RSA is deprecated (a made-up warning)", DeprecationWarning)\n')
    done = subprocess.run([os.path.join(BIN_DIR, 'python'), '-c', script], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert 'RSA is deprecated' in done.stderr, done.stderr
