import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _settle_garbage_collector() -> None:
    """Load what the first requests would load (the URL conf imports every view), then move everything loaded so
    far out of the collector's generations (``gc.freeze``) and let the youngest fill further before a collection.

    A sign-in allocates thousands of short-lived objects; without this, every full collection walks the whole
    loaded Django project as well (docs/operators.md, "Garbage collection").
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 7000), gen1, gen2)


if settings.GC_FREEZE:
    _settle_garbage_collector()
