"""Local development and demo: DEBUG on, everything else from base."""

from .base import *  # noqa: F403
from .base import env

# On unless DJANGO_DEBUG says otherwise: `make loadtest` serves these settings with DJANGO_DEBUG=False, since
# DEBUG keeps every query's SQL in memory and times the run's pages with it.
DEBUG = env.bool("DJANGO_DEBUG", default=True)
