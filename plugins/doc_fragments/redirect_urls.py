# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options shared by the modules that manage an integration's redirect URIs (creatio_oauth_client,
    # creatio_redirect_url); tests/unit/plugins/module_utils/test_connection_docs.py compares them with each
    # module's argument spec.
    DOCUMENTATION = r'''
options:
  add_unconfirmed_redirect_urls:
    description:
      - Where the collection cannot tell which redirect URIs an existing integration has (the facts cache does not
        know them, the site does not let the redirect-URI entity be read, and its identity service's authorization
        endpoint does not answer), the declared URIs are B(unconfirmed). By default they are reported
        (RV(unconfirmed_redirect_urls) and a warning) and never added, so that a lost cache never adds a URI a second
        time. Where the authorization endpoint answers, it tells which declared URIs are registered, and only the
        missing ones are added (no URI is unconfirmed then).
      - V(true) is the explicit step that makes them managed, after checking the integration page in Creatio; it
        adds every declared URI it cannot confirm, once, and records their ids in the facts cache; a URI that was
        there then has two rows (remove the extra one on the integration page).
    type: bool
    default: false
'''
