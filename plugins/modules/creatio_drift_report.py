#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_drift_report
short_description: Report which Creatio sites are in line with their declared OAuth 2.0 integrations
version_added: 0.3.0
description:
  - Turns what a check-mode run of the C(creatio.oauth.integrations) role found on many sites (each site's
    C(creatio_integrations_result)) into one report, site by integration, each cell one of V(in line),
    V(would create), V(would update) (with the fields that differ), V(would delete) or V(unknown) (the site could not
    be read, or the integration could not be decided there, with the reason); and the count of sites in line.
  - Writes the report as Markdown (O(markdown_path)) and as JSON (O(json_path)), files that a pipeline can keep, mode
    0600 (they name the sites and their integrations).
  - >-
    What comes from a site (names, URLs, error texts) stays text. In the Markdown, the characters Markdown or HTML
    give a meaning to are escaped (no link, image, tag or table cell comes from a site). In the JSON, a text that
    Ansible would take for a template (one with C({) or C(#)) is written as C({"__ansible_unsafe": <text>}), Ansible's
    marker for data, so that reading the file back with C(-e @file) or C(include_vars) never runs it; every other text
    is a plain JSON string.
  - Runs on the controller and sends nothing to any site; the C(creatio.oauth.drift) playbook gathers the results
    of its check-mode run and calls it. It reads only the role's published results, which never hold a secret.
author:
  - creatio.oauth contributors (@creatio-oauth)
options:
  sites:
    description:
      - One entry per site, as the C(creatio.oauth.drift) playbook gathers them.
    type: list
    elements: dict
    required: true
    suboptions:
      site:
        description:
          - The site's name in the report (its inventory host name).
        type: str
        required: true
      url:
        description:
          - Its C(creatio_url), shown in the JSON report without a C(user:password@) part (the C(creatio.oauth.drift)
            playbook removes that part before it passes the URL).
        type: str
      declared:
        description:
          - The names of the integrations declared for the site, so that a site that could not be read at all still
            gets a V(unknown) cell for each.
        type: list
        elements: str
      results:
        description:
          - The role's C(creatio_integrations_result) on that site after a check-mode run (C(name), C(action),
            C(fields), C(operations), C(error)). Null or empty when the role did not get that far.
        type: list
        elements: dict
      error:
        description:
          - Why the role failed on the site, if it did (the site unreachable, a login refused, ...).
        type: str
  markdown_path:
    description:
      - Write the report as Markdown here (the folder must exist). A relative path is taken from the folder Ansible
        starts the module in, the playbook's; the C(creatio.oauth.drift) playbook passes an absolute path
        (C(creatio_drift_dir) taken from the directory C(ansible-playbook) was started in).
    type: path
  json_path:
    description:
      - Write the report as JSON here (the folder must exist).
    type: path
  fail_on_drift:
    description:
      - Fail when a site is not in line (drift, or unknown), after writing the report; for pipelines that gate on it.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the report is returned but no file is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
notes:
  - It is not part of the C(creatio.oauth.creatio) action group, since it takes no connection options.
seealso:
  - ref: ansible_collections.creatio.oauth.docsite.sites
    description: Many sites from one inventory, the drift report, and export.
'''

EXAMPLES = r'''
- name: Report the drift gathered by a check-mode run of the role on every site of the play
  creatio.oauth.creatio_drift_report:
    sites: "{{ ansible_play_hosts_all | map('extract', hostvars, 'creatio_drift_site') | list }}"
    markdown_path: "{{ creatio_drift_dir }}/drift.md"
    json_path: "{{ creatio_drift_dir }}/drift.json"
  delegate_to: localhost
  run_once: true
  check_mode: false

- name: Report two sites by hand
  creatio.oauth.creatio_drift_report:
    sites:
      - site: prod-emea
        declared: [Power BI Connector]
        results:
          - name: Power BI Connector
            action: updated
            fields: [application_url]
            operations: ["update integration Power BI Connector: application_url 'https://a' -> 'https://app.powerbi.com'"]
      - site: prod-us
        declared: [Power BI Connector]
        error: the site did not answer
  register: drift
'''

RETURN = r'''
report:
  description: The report, as written to O(json_path).
  returned: always
  type: dict
  contains:
    generated_at:
      description: When it was made (UTC).
      type: str
    integrations:
      description: The integration names, the columns of the table.
      type: list
      elements: str
    sites:
      description:
        - One entry per site, sorted by name, with C(site), C(url), C(status) (V(in line), V(drift) or V(unknown)),
          C(reason) and C(integrations) (one cell per integration, with C(name), C(state), C(fields), C(operations)
          and C(reason)).
      type: list
      elements: dict
    summary:
      description: C(sites), C(sites_in_line), C(sites_with_drift), C(sites_unknown), and C(cells) (the count of each state).
      type: dict
markdown:
  description: The report as Markdown, as written to O(markdown_path).
  returned: always
  type: str
summary:
  description: >-
    The count of sites in line, then one line per site and integration that is not in line, then the path of
    each report file (C(Report: <path>), or C(Would write <path>) in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - 4 of 6 site(s) in line, 1 with drift, 1 unknown
    - "test-2: Power BI Connector: would update (application_url)"
    - "offline: unknown: 3 of 3 integration(s) failed: ..."
sites_in_line:
  description: How many sites are in line.
  returned: always
  type: int
in_line:
  description: Whether every site is in line.
  returned: always
  type: bool
files:
  description: The files written by this run (none in check mode, or when they did not change).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._drift import report_service
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module


def argument_spec():
    return dict(
        sites=dict(type='list', elements='dict', required=True, options=dict(
            site=dict(type='str', required=True),
            url=dict(type='str'),
            declared=dict(type='list', elements='str'),
            results=dict(type='list', elements='dict'),
            error=dict(type='str'),
        )),
        markdown_path=dict(type='path'),
        json_path=dict(type='path'),
        fail_on_drift=dict(type='bool', default=False),
    )


def report(run):
    return report_service(run.params, run.check_mode)


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), report, connected=False)


if __name__ == '__main__':
    main()
