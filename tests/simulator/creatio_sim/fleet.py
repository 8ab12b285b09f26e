"""Several independent simulated sites in one process, each on its own port."""

from __future__ import annotations

import threading

from .site import Simulator


class SimulatorFleet:
    """``count`` independent sites (own state, log, switches, sessions and control API), each
    served on its own port of ``host``. Keyword arguments are Simulator's and apply to every
    site; ``base_port`` 0 picks free ports, otherwise sites get base_port, base_port+1, ...

    >>> with SimulatorFleet(5, site_path='/CreatioApp') as fleet:
    ...     fleet[0].url, fleet.describe(), fleet[3].configure(platform='netcore')
    """

    def __init__(self, count, host='127.0.0.1', base_port=0, **kwargs):
        if count < 1:
            raise ValueError('a fleet needs at least one site')
        self.sites = [Simulator(host=host, port=base_port + i if base_port else 0, **kwargs) for i in range(count)]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def __len__(self):
        return len(self.sites)

    def __iter__(self):
        return iter(self.sites)

    def __getitem__(self, index):
        return self.sites[index]

    def start(self):
        """Start every site (on failure, the ones already started are stopped)."""
        try:
            for site in self.sites:
                site.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop every site, in parallel (each stop waits for its serving loop)."""
        threads = [threading.Thread(target=site.stop, daemon=True) for site in self.sites]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

    def reset(self):
        """Reset every site."""
        for site in self.sites:
            site.reset()

    def describe(self):
        """[{url, identity_url, control}] of every site, in order."""
        return [site.describe() for site in self.sites]
