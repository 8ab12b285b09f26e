#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_site_check
short_description: Tell what holds on a Creatio site before changing anything on it
version_added: 0.2.0
description:
  - Checks, read-only, what the collection needs from a Creatio site, and reports it in a form to read or to paste
    into an issue. Run it against a real site before the first change.
  - The login; where the API lives (under C(/0) on .NET Framework, at the site root on .NET Core); whether the
    integrations (OData C(OAuthClientApp)) and the users (OData C(SysAdminUnit)) can be read; the identity
    service (the token endpoint published by the site's OpenID configuration, or given, or the Creatio cloud
    convention, and whether it answers, by asking a token for a made-up client, which it must refuse); the
    redirect-URI entity in the OData description; whether the site has the redirect URI methods (Creatio 8.3), and what
    decided it (the entity, or a read-only GET of C(AddRedirectUrls), 405 where it exists, 404 before 8.3; an OpenID
    configuration alone decides nothing); whether the identity service's authorization endpoint answers (asked for a
    made-up client, without cookies or tokens), the evidence for redirect URIs on a site that does not list them.
  - Each API assumption of the collection it could check is reported confirmed or refuted.
  - Never writes anything to Creatio and never touches the facts cache. The report holds no secret, cookie or token.
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.attributes
  - creatio.oauth.attributes.read_only
options: {}
notes:
  - The task does not fail when a check fails; RV(ok) and RV(failed_checks) say so. Only input that is not valid
    (a bad O(creatio_url), no login given) fails it.
seealso:
  - ref: ansible_collections.creatio.oauth.docsite.api_assumptions
    description: The assumptions the check confirms or refutes.
'''

EXAMPLES = r'''
- name: Check a site before the first change
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: https://mycompany.creatio.com
      creatio_username: "{{ vault_creatio_username }}"
      creatio_password: "{{ vault_creatio_password }}"
  tasks:
    - name: What holds on the site
      creatio.oauth.creatio_site_check:
      register: site

    - name: The report (no secrets in it)
      ansible.builtin.debug:
        msg: "{{ site.report }}"
'''

RETURN = r'''
ok:
  description: Whether every check passed (a check that could not be made is V(skipped), not failed).
  returned: always
  type: bool
failed_checks:
  description: The names of the checks that failed.
  returned: always
  type: list
  elements: str
checks:
  description: One entry per check, in order, with C(check), C(status) (V(ok), V(failed), V(skipped)) and C(detail).
  returned: always
  type: list
  elements: dict
assumptions:
  description: The API assumptions the check could test, each with C(assumption), C(verdict) (V(confirmed),
    V(refuted), V(not checked)) and C(evidence).
  returned: always
  type: list
  elements: dict
site:
  description: What was found out about the site (C(platform), C(redirect_uri_methods), C(creatio_version)).
  returned: always
  type: dict
report:
  description: The whole report as lines of text, to read or paste into an issue.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module
from ansible_collections.creatio.oauth.plugins.module_utils._site_check import check_site


def argument_spec():
    return connection_argspec()


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), check_site, cache=False)


if __name__ == '__main__':
    main()
