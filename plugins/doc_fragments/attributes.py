# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes every module of the collection shares. A module adds one of CHANGES or
    # READ_ONLY, and may override a key (its own details win over the fragment's).
    DOCUMENTATION = r'''
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
  action_group:
    description: Part of the action group C(creatio.oauth.creatio), so that C(module_defaults) for
      C(group/creatio.oauth.creatio) sets the connection options of every module once.
    support: full
    membership:
      - creatio.oauth.creatio
'''

    # Modules that change integrations.
    CHANGES = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads (OData) but never writes to Creatio, and never changes the facts cache.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows the managed fields before and after; it never contains a secret.
'''

    # Modules that never change anything.
    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
'''
