# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: controller_path
short_description: A path on the controller, relative paths taken from where ansible-playbook was started
version_added: 0.3.0
description:
  - Returns the path with C(~) expanded, made absolute against the working directory of the C(ansible-playbook)
    process (the directory it was started in; under AWX or ansible-runner, the project directory).
  - Ansible starts the modules of a local connection in the playbook's folder, so a relative path given to a module
    would land inside the installed collection when the playbook is one of the collection's (C(creatio.oauth.bootstrap),
    C(creatio.oauth.sites), C(creatio.oauth.export), C(creatio.oauth.drift)). The filter runs on the controller,
    in that process, and does not depend on E(PWD) (which ansible-runner may leave unset).
  - An empty or null path stays as it is.
positional: _input
options:
  _input:
    description: The path.
    type: path
    required: true
author:
  - creatio.oauth contributors (@creatio-oauth)
'''

EXAMPLES = r'''
- name: Secrets in ./secrets of the directory ansible-playbook was started in
  ansible.builtin.set_fact:
    creatio_integrations_secrets_dir: "{{ 'secrets' | creatio.oauth.controller_path }}"
'''

RETURN = r'''
_value:
  description: The absolute path (or the empty or null input).
  type: path
'''

import os


def controller_path(path):
    if not path:
        return path
    return os.path.abspath(os.path.expanduser(str(path)))


class FilterModule(object):
    def filters(self):
        return {'controller_path': controller_path}
