"""The browser app (webapp/, built by `npm run build` into webapp/dist) served at "/": index.html for "/"
and the hashed files under /assets/. Not part of the API (no OpenAPI entry, no token: the app itself
signs in through /api/v1/auth/login). Without a build "/" answers 404 with a hint."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

DIST = Path(__file__).resolve().parents[2] / "webapp" / "dist"
# The app's own aiohttp resources: the only ones that do not come from the API registry.
WEBAPP_RESOURCES = web.AppKey("webapp_resources", list[web.AbstractResource])


def install_webapp(app: web.Application, dist: Path = DIST) -> None:
    index = dist / "index.html"

    async def serve_index(request: web.Request) -> web.StreamResponse:
        if not index.is_file():
            raise web.HTTPNotFound(text="the web app is not built (make setup runs npm ci and the build)")
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    resources: list[web.AbstractResource] = [app.router.add_get("/", serve_index).resource]  # type: ignore[list-item]
    assets = dist / "assets"
    if assets.is_dir():
        resources.append(app.router.add_static("/assets/", assets, follow_symlinks=False))
    app[WEBAPP_RESOURCES] = resources
