"""The recognition service: a FastAPI app (API, metrics, feedback store) and the drawing page."""

from digitrec.service.app import create_app
from digitrec.service.settings import Settings

__all__ = ["Settings", "create_app"]
