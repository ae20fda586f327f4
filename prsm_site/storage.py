"""Static files storage for production: WhiteNoise's compressed manifest storage,
except for the Vite build under ``dist/``.

Vite fingerprints its files already, and its chunks import one another by those
names (``import "./run-BoVZdPSW.js"``). A second, Django-made hash on the entry the
page loads (``run-BoVZdPSW.c091c4b9b69b.js``) would give the browser two URLs for
one module: a lazily loaded chunk that imports the entry would run it a second time
(a second React root on the same element, a second store context).
"""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage

VITE_BUILD = "dist/"


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        if name.startswith(VITE_BUILD):
            return name
        return super().hashed_name(name, content, filename)
