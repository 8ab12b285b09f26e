# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: connection_options
short_description: The collection's connection variables that are set, for a task's module_defaults
version_added: 0.3.0
description:
  - Returns one dict, with each connection option of the collection's modules (C(creatio_url), C(creatio_username),
    ... the options of the C(creatio.oauth.connection) documentation fragment) whose variable of the same name is set,
    and its value. A variable that is not defined, null or an empty string is left out, so that the play's
    C(module_defaults) for C(group/creatio.oauth.creatio) or the E(CREATIO_URL), E(CREATIO_USERNAME), ... environment
    variables still supply it.
  - The option names are the modules' own argument spec, so the C(creatio.oauth.integrations) role and the
    collection's playbooks pass every connection option the modules take.
  - The options that are files on the controller (C(ca_path), C(cache_path)) are made absolute with the
    C(creatio.oauth.controller_path) filter, a relative path taken from the directory C(ansible-playbook) was started
    in (Ansible starts local modules in the playbook's folder).
  - Use it in C(module_defaults) keyed by the module, not in the task's arguments with the C(omit) placeholder, which would
    hide the play's C(module_defaults) for the group.
  - The dict may hold the password and the client secret; the modules never show them (those options are C(no_log)).
options:
  _terms:
    description: None; the lookup takes no terms.
    required: false
author:
  - creatio.oauth contributors (@creatio-oauth)
'''

EXAMPLES = r'''
- name: Read the integrations of the site with the connection variables that are set
  creatio.oauth.creatio_oauth_client_info:
  module_defaults:
    creatio.oauth.creatio_oauth_client_info: "{{ lookup('creatio.oauth.connection_options') }}"
  register: site
'''

RETURN = r'''
_raw:
  description: One dict, option name to value, of the connection variables that are set.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

from ansible_collections.creatio.oauth.plugins.filter.controller_path import controller_path
from ansible_collections.creatio.oauth.plugins.module_utils._connection import CONNECTION_ARGSPEC, CONNECTION_OPTIONS


def options_that_are_set(values):
    """``values`` (option name -> the value of its variable, '' when undefined) reduced to the options that are set,
    controller paths made absolute."""
    options = {}
    for name, value in values.items():
        if CONNECTION_ARGSPEC[name].get('type') == 'path':
            value = controller_path(value)
        if value is None or (isinstance(value, str) and value == ''):
            continue
        options[name] = value
    return options


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleError('creatio.oauth.connection_options takes no terms, got %s' % ', '.join(str(t) for t in terms))
        names = list(CONNECTION_OPTIONS)
        # ansible.builtin.vars reads (and templates) task variables the same way on every ansible-core version.
        reader = lookup_loader.get('ansible.builtin.vars', loader=self._loader, templar=self._templar)
        values = reader.run(names, variables, default='')
        return [options_that_are_set(dict(zip(names, values)))]
