"""``safetyrules serve``: the engine over HTTP for inspection apps in any language, and the inspector's
checklist as a web page.

``create_app`` makes the ASGI app (``uvicorn 'safetyrules.service:create_app' --factory``); the form
description (``form_description``) is what the page and ``safetyrules schema form`` are built from.
Needs the ``serve`` extra (``pip install 'safetyrules[serve]'``) for the app; the form description
needs nothing more than the library. See docs/service.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Limits, ServiceConfig
from .form import FORM_VERSION, FormError, form_description

if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app

__all__ = ["FORM_VERSION", "FormError", "Limits", "ServiceConfig", "create_app", "form_description"]


def __getattr__(name: str) -> Any:
    # the app needs Starlette (the serve extra); the form description does not
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
