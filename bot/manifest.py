"""The Teams app package: the manifest template in `manifest/`, filled and zipped with its icons.

Pure functions and a zip file; nothing here talks to Teams. The template holds `${{NAME}}`
placeholders for what differs per installation (the bot's app id, its host, the developer's pages).
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.settings import GUID

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "manifest"
ICONS = {"color": (192, 192), "outline": (32, 32)}
REQUIRED_KEYS = (
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
)

_PLACEHOLDER = re.compile(r"\$\{\{([A-Z0-9_]+)\}\}")
# Teams takes MAJOR.MINOR.PATCH only: no pre-release or build suffix.
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_HTTPS_URL = re.compile(r"^https://[^\s/?#]+[^\s]*$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Fixed time stamp in the zip, so that the same inputs give the same package, byte for byte.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ManifestError(ValueError):
    """The app package cannot be built; the message says which value or file to fix."""


@dataclass(frozen=True)
class AppPackageSettings:
    """What the template leaves open. Empty means not given."""

    app_id: str  # the bot's Microsoft app id (MicrosoftAppId); also the Teams app's id
    domain: str  # host name the bot is served from, e.g. forumbot.vasteras.se
    version: str  # app version, MAJOR.MINOR.PATCH; raise it for every changed package
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str

    def placeholders(self) -> dict[str, str]:
        return {
            "APP_ID": self.app_id,
            "DOMAIN": self.domain,
            "APP_VERSION": self.version,
            "DEVELOPER_NAME": self.developer_name,
            "DEVELOPER_WEBSITE_URL": self.website_url,
            "DEVELOPER_PRIVACY_URL": self.privacy_url,
            "DEVELOPER_TERMS_URL": self.terms_url,
        }


# How each setting is named to the operator: the field, then the option or variable that sets it.
_LABELS = {
    "app_id": "app id (--app-id or MicrosoftAppId)",
    "domain": "domain (--domain)",
    "version": "version (--version)",
    "developer_name": "developer name (--developer-name)",
    "website_url": "developer website URL (--website-url)",
    "privacy_url": "privacy statement URL (--privacy-url)",
    "terms_url": "terms of use URL (--terms-url)",
}


def default_version() -> str:
    """The installed forumbot's version, or empty when it is not installed."""
    try:
        return metadata.version("forumbot")
    except metadata.PackageNotFoundError:
        return ""


def check_settings(settings: AppPackageSettings) -> None:
    """Raise ManifestError naming every missing or malformed value."""
    values = {name: value.strip() for name, value in asdict(settings).items()}
    missing = [_LABELS[name] for name, value in values.items() if not value]
    if missing:
        raise ManifestError("missing " + ", ".join(missing))
    problems = []
    if not GUID.match(values["app_id"]):
        problems.append(f"app id {values['app_id']!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    if not _HOST.match(values["domain"]):
        problems.append(
            f"domain {values['domain']!r} is not a host name (give it without https:// or a path, "
            "e.g. forumbot.vasteras.se)"
        )
    if not _SEMVER.match(values["version"]):
        problems.append(f"version {values['version']!r} is not MAJOR.MINOR.PATCH (e.g. 1.0.0)")
    if len(values["developer_name"]) > 32:
        problems.append("developer name is longer than 32 characters")
    for name in ("website_url", "privacy_url", "terms_url"):
        if not _HTTPS_URL.match(values[name]) or len(values[name]) > 2048:
            problems.append(f"{_LABELS[name].split(' (')[0]} {values[name]!r} is not an https:// URL")
    if problems:
        raise ManifestError("; ".join(problems))


def load_template(template_dir: Path = TEMPLATE_DIR) -> dict[str, Any]:
    """The manifest template as JSON, with its placeholders still in it."""
    path = template_dir / "manifest.json"
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"cannot read the manifest template {path}: {error.strerror}") from None
    except ValueError as error:
        raise ManifestError(f"the manifest template {path} is not JSON: {error}") from None
    if not isinstance(template, dict):
        raise ManifestError(f"the manifest template {path} is not a JSON object")
    return template


def fill(template: dict[str, Any], settings: AppPackageSettings) -> dict[str, Any]:
    """The manifest with every placeholder replaced; raises ManifestError on bad settings or template."""
    check_settings(settings)
    values = {name: value.strip() for name, value in settings.placeholders().items()}
    unknown: set[str] = set()

    def substitute(node: Any) -> Any:
        if isinstance(node, str):

            def value_of(match: re.Match[str]) -> str:
                if match.group(1) not in values:
                    unknown.add(match.group(1))
                    return match.group(0)
                return values[match.group(1)]

            return _PLACEHOLDER.sub(value_of, node)
        if isinstance(node, list):
            return [substitute(item) for item in node]
        if isinstance(node, dict):
            return {key: substitute(item) for key, item in node.items()}
        return node

    manifest: dict[str, Any] = substitute(template)
    if unknown:
        raise ManifestError("the template has placeholders nothing fills: " + ", ".join(sorted(unknown)))
    absent = [key for key in REQUIRED_KEYS if not manifest.get(key)]
    if absent:
        raise ManifestError("the manifest template lacks required fields: " + ", ".join(absent))
    return manifest


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header; ManifestError if it is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ManifestError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _icons(manifest: dict[str, Any], template_dir: Path) -> dict[str, bytes]:
    """The icon files the manifest names, checked for the sizes Teams requires, by file name."""
    icons = manifest.get("icons")
    if not isinstance(icons, dict):
        raise ManifestError("the manifest's icons are not an object")
    files: dict[str, bytes] = {}
    for kind, size in ICONS.items():
        name = icons.get(kind)
        if not isinstance(name, str) or not name or "/" in name or "\\" in name:
            raise ManifestError(f"the manifest's {kind} icon must be a file name beside manifest.json")
        path = template_dir / name
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ManifestError(f"cannot read the {kind} icon {path}: {error.strerror}") from None
        try:
            actual = png_size(data)
        except ManifestError:
            raise ManifestError(f"the {kind} icon {path} is not a PNG file") from None
        if actual != size:
            raise ManifestError(
                f"the {kind} icon {path} is {actual[0]}×{actual[1]}, Teams wants {size[0]}×{size[1]}"
            )
        files[name] = data
    return files


def build_package(
    settings: AppPackageSettings, output: Path, template_dir: Path = TEMPLATE_DIR
) -> dict[str, Any]:
    """Write the installable app package (manifest.json and the icons at the zip's root) to `output`.

    Returns the filled manifest. On any error nothing is written: the zip is assembled in a
    temporary file beside `output` and renamed over it only when complete.
    """
    manifest = fill(load_template(template_dir), settings)
    files = {"manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()}
    files.update(_icons(manifest, template_dir))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    except OSError as error:
        raise ManifestError(f"cannot write {output}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as package:
            for name, data in files.items():
                entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                package.writestr(entry, data)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would outlive the rename
        os.replace(temporary, output)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise ManifestError(f"cannot write {output}: {error.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest
