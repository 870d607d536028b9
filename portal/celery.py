"""The Celery application; configuration comes from Django settings (CELERY_* names)."""
import os

from celery import Celery, signals

from portal import correlation

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A task runs under the correlation id of whatever queued it (a request, an interchange), or a new one.
@signals.before_task_publish.connect
def _send_correlation_id(headers=None, **kwargs) -> None:
    if headers is not None and correlation.current():
        headers.setdefault("correlation_id", correlation.current())


@signals.task_prerun.connect
def _bind_correlation_id(task=None, **kwargs) -> None:
    if task is not None:
        # Custom message headers reach the request as attributes, or (eager runs) in its headers.
        given = getattr(task.request, "correlation_id", None) or (getattr(task.request, "headers", None) or {}).get("correlation_id")
        task.request.correlation_token = correlation.enter(given)


@signals.task_postrun.connect
def _unbind_correlation_id(task=None, **kwargs) -> None:
    token = getattr(task.request, "correlation_token", None) if task else None
    if token is not None:
        correlation.leave(token)
