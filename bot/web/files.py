"""GET /files/<token>: a file a member was given a link to, or a short page saying why not.

A browser opens these links, so every refusal is a page a person can read, Swedish first and
English second (the page knows no language preference before the token is checked).
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot.domain.files import content_disposition
from bot.services.files import DownloadResult, FileService

log = logging.getLogger(__name__)

FILES = web.AppKey("files", FileService)

# Nothing a download or a page returns may be stored, framed, sniffed into another type, or
# reveal its address (the token) to another site.
_COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
}

INVALID = (
    "Länken har gått ut eller är ogiltig. Be Forumbot om en ny länk i Teams.",
    "The link has expired or is invalid. Ask Forumbot in Teams for a new one.",
)
NOT_MEMBER = (
    "Länken gäller inte längre: den hör till någon som inte är medlem i forumet. "
    "Kontakta forumets samordnare.",
    "The link no longer works: it belongs to someone who is not a member of the forum. "
    "Contact the forum's coordinators.",
)
NOT_FOUND = (
    "Filen finns inte, eller så får du inte se den. Be Forumbot om en ny länk i Teams.",
    "The file does not exist, or you may not see it. Ask Forumbot in Teams for a new link.",
)
FAILED = (
    "Något gick fel när filen skulle skapas. Försök igen om en stund.",
    "Something went wrong while making the file. Try again in a while.",
)


def page(status: int, texts: tuple[str, str]) -> web.Response:
    swedish, english = (html.escape(text, quote=False) for text in texts)
    body = (
        '<!DOCTYPE html>\n<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n<title>Forumbot</title>\n</head>\n<body>\n'
        f'<h1>Forumbot</h1>\n<p>{swedish}</p>\n<p lang="en">{english}</p>\n</body>\n</html>\n'
    )
    return web.Response(
        status=status,
        body=body.encode("utf-8"),
        headers={**_COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8"},
    )


async def download(request: web.Request) -> web.Response:
    """The file a link grants (HEAD: its headers only, not audited)."""
    try:
        outcome = await request.app[FILES].download(
            request.match_info["token"], record=request.method == "GET"
        )
    except Exception:
        log.exception("a file could not be made")
        return page(500, FAILED)
    if outcome.result is DownloadResult.INVALID:
        return page(403, INVALID)
    if outcome.result is DownloadResult.NOT_MEMBER:
        return page(403, NOT_MEMBER)
    if outcome.file is None:
        return page(404, NOT_FOUND)
    file = outcome.file
    return web.Response(
        body=file.body,
        headers={
            **_COMMON_HEADERS,
            "Content-Type": file.media_type,
            "Content-Disposition": content_disposition(file.filename),
        },
    )


def add_file_routes(app: web.Application) -> None:
    # GET answers HEAD too; any other method gets 405 with an Allow header.
    app.router.add_get("/files/{token:[^/]*}", download)
