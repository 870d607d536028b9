"""The Django project: settings, URLs, the Celery app, authentication pages and health checks."""
from portal.celery import app as celery_app

__all__ = ["celery_app"]
