"""Static files served under content-hashed names, so browsers may cache them for a year.

`static_url("css/app.css")` gives `/static/css/app.3f9c2a1b.css`; the route maps the hashed name back to the
file. Hashes are computed once at start-up.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Final

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

STATIC_DIR: Final = Path(__file__).parent / "static"
_IMMUTABLE: Final = "public, max-age=31536000, immutable"


class AssetManifest:
    """Maps logical asset names to hashed names and back."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        self.root = root
        self._hashed: dict[str, str] = {}
        self._files: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            logical = path.relative_to(root).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, suffix = logical.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{logical}.{digest}"
            self._hashed[logical] = hashed
            self._files[hashed] = path

    def url(self, logical: str) -> str:
        """The public URL of an asset; an unknown name is a programming error."""
        return f"/static/{self._hashed[logical]}"

    def file_for(self, hashed: str) -> Path | None:
        """The file behind a hashed name, if any."""
        return self._files.get(hashed)


MANIFEST: Final = AssetManifest()


def static_url(logical: str) -> str:
    """Template helper: the cache-busting URL of a static file."""
    return MANIFEST.url(logical)


@get("/static/{name:path}", include_in_schema=False, sync_to_thread=False)
def serve_static(name: FromPath[str]) -> Response[bytes]:
    """Serve a static file by its hashed name with a one-year immutable cache."""
    path = MANIFEST.file_for(name.lstrip("/"))
    if path is None:
        raise NotFoundException()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), media_type=media_type, headers={"Cache-Control": _IMMUTABLE})
