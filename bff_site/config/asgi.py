"""ASGI entry point of CoffeeShop.BFF (served by gunicorn with uvicorn workers).

The BFF runs as ASGI so that live-update streams (`GET /api/events`) are coroutines,
not threads: one process holds thousands (docs/decisions.md, "Live updates").
"""

import contextlib
import os
import resource
import sys

import django
from django.urls import get_resolver

# A stream is a socket: lift the soft limit on open files to the hard one.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
_wanted = 65536 if _hard == resource.RLIM_INFINITY else _hard
if _soft != resource.RLIM_INFINITY and _soft < _wanted:
    # Keep what we were given if refused; the count of streams is then lower.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (_wanted, _hard))

# The event loop shares the GIL with the threads running sync views; each socket write
# of a stream lets a busy thread take the GIL for a whole switch interval (5 ms by
# default), and a fan-out to hundreds of streams paid that again and again.
sys.setswitchinterval(0.0005)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bff_site.config.settings.local")
django.setup(set_prefix=False)

from bff_site.config.handlers import BffASGIHandler  # noqa: E402 - needs the apps loaded

application = BffASGIHandler()

# Import every view now (gunicorn --preload: once, in the master) rather than on each
# worker's first request, which on a busy machine took seconds.
get_resolver().url_patterns  # noqa: B018
