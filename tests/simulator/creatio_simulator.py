#!/usr/bin/env python
"""Strict simulator of the Creatio OAuth 2.0 integration API (standard library only).

This file is the entry point and the import name (``import creatio_simulator``); the code lives in
the ``creatio_sim`` package beside it. The binding specification is docs/dev/design.md, section
"The simulator"; the wire contract is the project's creatio-api.md (sections 0 to 4).

    python creatio_simulator.py [--platform netcore] [--creatio-version 8.1] [--sites 5 --port-file F] ...
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:  # loaded by file path (tests/integration's sim_daemon.py): find the package beside
    sys.path.insert(0, _HERE)

# pylint: disable=wrong-import-position,unused-import
from creatio_sim import *  # noqa: E402,F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from creatio_sim.cli import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
