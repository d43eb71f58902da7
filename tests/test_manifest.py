"""The Teams app package: built, then checked against Microsoft's own JSON schema, offline.

The schemas come from the npm package @microsoft/app-manifest, which `./dev test` installs into
.tools/npm (version pinned there). Without it these tests fail rather than skip: a package that was
never validated must not look green.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker, validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from bot.dialogs import build_router
from bot.manifest import TEMPLATE_DIR, AppPackageSettings, ManifestError, build_package

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / ".tools" / "npm" / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas"
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v{version}/{name}"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

GOOD = AppPackageSettings(
    app_id=APP_ID,
    domain="forumbot.vasteras.se",
    version="1.2.3",
    developer_name="Västerås stad",
    website_url="https://www.vasteras.se/",
    privacy_url="https://www.vasteras.se/personuppgifter",
    terms_url="https://www.vasteras.se/villkor",
)
CLI_OPTIONS = [
    "--domain",
    GOOD.domain,
    "--website-url",
    GOOD.website_url,
    "--privacy-url",
    GOOD.privacy_url,
    "--terms-url",
    GOOD.terms_url,
]


def schema_validator(version: str) -> Any:
    """A validator for the Teams schema of `version`, resolving every $ref from local files only."""
    folder = SCHEMAS / "teams" / f"v{version}"
    path = folder / "MicrosoftTeams.schema.json"
    if not path.is_file():
        pytest.fail(
            f"the Teams manifest schema v{version} is missing at {path}; `./dev test` installs "
            "@microsoft/app-manifest into .tools/npm (npm install --no-save --prefix .tools/npm ...)"
        )
    schema = json.loads(path.read_text(encoding="utf-8"))
    # The files' own URLs, so that cross-file $refs resolve here; anything else fails instead of
    # being fetched (there is no network). Meta schemas (draft-04, draft-07) ship with jsonschema.
    resources = [
        (SCHEMA_URL.format(version=version, name=file.name), json.loads(file.read_text(encoding="utf-8")))
        for file in sorted(folder.glob("*.json"))
    ]

    def offline(uri: str) -> Resource[Any]:
        raise NoSuchResource(ref=uri)

    registry: Registry[Any] = Registry(retrieve=offline).with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT4)) for uri, contents in resources
    )
    base = validators.validator_for(schema, default=Draft4Validator)
    if base is Draft4Validator:
        # Microsoft's draft-04 schemas use const and if/then, which the Teams toolkit's Ajv enforces;
        # plain draft-04 would ignore them (manifestVersion is checked by const).
        base = validators.extend(
            Draft4Validator,
            {keyword: Draft7Validator.VALIDATORS[keyword] for keyword in ("const", "if", "contains")},
        )
    # Ajv reads patterns as ECMAScript with the u flag; one Office add-in pattern uses \p{L}, which
    # Python's re lacks, so the meta check leaves pattern syntax alone. No Teams bot field uses it.
    base.check_schema(schema, format_checker=FormatChecker(f for f in FormatChecker.checkers if f != "regex"))
    return base(schema, registry=registry, format_checker=FormatChecker())


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = schema_validator(manifest["manifestVersion"])
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def read_package(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as package:
        files = {name: package.read(name) for name in package.namelist()}
    return json.loads(files["manifest.json"]), files


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGB or RGBA PNG, without an image library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, header, compressed = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0]
        )
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color_type in (2, 6) and interlace == 0
    channels = 4 if color_type == 6 else 3
    stride = width * channels
    raw = zlib.decompress(compressed)
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int, int]] = []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        for x in range(width):
            px = line[x * channels : (x + 1) * channels]
            pixels.append((px[0], px[1], px[2], px[3] if channels == 4 else 255))
        previous = line
    return width, height, pixels


@pytest.fixture
def built(tmp_path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    output = tmp_path / "forumbot.zip"
    build_package(GOOD, output)
    return read_package(output)


def test_the_package_holds_manifest_and_icons_at_its_root(
    built: tuple[dict[str, Any], dict[str, bytes]],
) -> None:
    manifest, files = built
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_built_manifest_is_valid_against_the_official_schema_of_its_version(
    built: tuple[dict[str, Any], dict[str, bytes]],
) -> None:
    manifest, _ = built
    version = manifest["manifestVersion"]
    assert tuple(int(part) for part in version.split(".")) >= (1, 19)
    assert manifest["$schema"] == SCHEMA_URL.format(version=version, name="MicrosoftTeams.schema.json")
    assert schema_errors(manifest) == []


def test_the_schema_check_is_not_vacuous(built: tuple[dict[str, Any], dict[str, bytes]]) -> None:
    manifest, _ = built
    wrong_version = {**manifest, "manifestVersion": "1.0"}
    no_developer = {key: value for key, value in manifest.items() if key != "developer"}
    bad_bot = {**manifest, "bots": [{**manifest["bots"][0], "botId": "forumbot"}]}
    schema = schema_validator(manifest["manifestVersion"])
    assert any(e.validator == "const" for e in schema.iter_errors(wrong_version))
    assert any(e.validator == "required" for e in schema.iter_errors(no_developer))
    assert any(e.validator == "pattern" for e in schema.iter_errors(bad_bot))


def test_the_settings_fill_every_placeholder(built: tuple[dict[str, Any], dict[str, bytes]]) -> None:
    manifest, files = built
    assert "${{" not in files["manifest.json"].decode()
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.2.3"
    assert manifest["validDomains"] == ["forumbot.vasteras.se"]
    assert manifest["developer"] == {
        "name": "Västerås stad",
        "websiteUrl": GOOD.website_url,
        "privacyUrl": GOOD.privacy_url,
        "termsOfUseUrl": GOOD.terms_url,
    }


def test_each_scope_lists_only_commands_the_bot_understands_there(
    built: tuple[dict[str, Any], dict[str, bytes]],
) -> None:
    manifest, _ = built
    bot = manifest["bots"][0]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    lists = {
        scope: [c["title"] for c in entry["commands"]]
        for entry in bot["commandLists"]
        for scope in entry["scopes"]
    }
    assert sorted(lists) == sorted(bot["scopes"])
    known = {word for command in build_router().commands for word in command.words}
    for titles in lists.values():
        assert set(titles) <= known
        assert "hjälp" in titles
    # Registration works in a personal chat only, channel linking in a team channel only, and no
    # flow can be under way outside a personal chat, so there is nothing to cancel there.
    assert "registrera mig" in lists["personal"]
    assert "koppla kanal" in lists["team"]
    assert [scope for scope, titles in lists.items() if "registrera mig" in titles] == ["personal"]
    assert [scope for scope, titles in lists.items() if "koppla kanal" in titles] == ["team"]
    assert [scope for scope, titles in lists.items() if "avbryt" in titles] == ["personal"]


def test_the_same_settings_build_the_same_package(tmp_path: Path) -> None:
    build_package(GOOD, tmp_path / "a.zip")
    build_package(GOOD, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_id": "forumbot"}, "not a GUID"),
        ({"app_id": APP_ID + "0"}, "not a GUID"),
        ({"domain": "https://forumbot.vasteras.se/api"}, "not a host name"),
        ({"version": "1.0"}, "not MAJOR.MINOR.PATCH"),
        ({"version": "1.0.0-beta"}, "not MAJOR.MINOR.PATCH"),
        ({"privacy_url": "http://www.vasteras.se/"}, "not an https:// URL"),
        ({"developer_name": "x" * 33}, "longer than 32"),
    ],
)
def test_bad_settings_raise_a_clear_error_and_write_nothing(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    output = tmp_path / "out" / "forumbot.zip"
    with pytest.raises(ManifestError, match=message):
        build_package(AppPackageSettings(**{**GOOD.__dict__, **change}), output)
    assert not output.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_failed_build_leaves_the_previous_package_alone(tmp_path: Path) -> None:
    output = tmp_path / "forumbot.zip"
    build_package(GOOD, output)
    before = output.read_bytes()
    with pytest.raises(ManifestError):
        build_package(AppPackageSettings(**{**GOOD.__dict__, "app_id": "not-a-guid"}), output)
    assert output.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["forumbot.zip"]


def test_missing_settings_are_named(tmp_path: Path) -> None:
    output = tmp_path / "forumbot.zip"
    with pytest.raises(ManifestError, match=r"missing domain \(--domain\), privacy statement URL"):
        build_package(AppPackageSettings(**{**GOOD.__dict__, "domain": "", "privacy_url": " "}), output)
    assert not output.exists()


def test_a_template_without_a_required_field_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    manifest = json.loads((TEMPLATE_DIR / "manifest.json").read_text(encoding="utf-8"))
    del manifest["developer"]
    (template / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for icon in ("color.png", "outline.png"):
        (template / icon).write_bytes((TEMPLATE_DIR / icon).read_bytes())
    output = tmp_path / "forumbot.zip"
    with pytest.raises(ManifestError, match="lacks required fields: developer"):
        build_package(GOOD, output, template)
    assert not output.exists()


def test_an_icon_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    (template / "manifest.json").write_bytes((TEMPLATE_DIR / "manifest.json").read_bytes())
    (template / "color.png").write_bytes((TEMPLATE_DIR / "outline.png").read_bytes())
    (template / "outline.png").write_bytes((TEMPLATE_DIR / "outline.png").read_bytes())
    with pytest.raises(ManifestError, match=r"color icon .* is 32×32, Teams wants 192×192"):
        build_package(GOOD, tmp_path / "forumbot.zip", template)
    assert not (tmp_path / "forumbot.zip").exists()


def test_the_color_icon_is_192_square_and_opaque() -> None:
    width, height, pixels = decode_png((TEMPLATE_DIR / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    assert all(alpha == 255 for *_, alpha in pixels)
    assert len({(r, g, b) for r, g, b, _ in pixels}) > 2


def test_the_outline_icon_is_32_square_white_on_transparent() -> None:
    width, height, pixels = decode_png((TEMPLATE_DIR / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    assert all((r, g, b) == (255, 255, 255) for r, g, b, alpha in pixels if alpha)
    alphas = [alpha for *_, alpha in pixels]
    assert alphas.count(0) > len(alphas) // 3
    assert alphas.count(255) > 0


def forumbot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("forumbot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "FORUMBOT_"))}
    environment.update(env or {})
    return subprocess.run(
        [*command, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_help(tmp_path: Path) -> None:
    result = forumbot("manifest", "build", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for option in ("--app-id", "--domain", "--version", "--output", "--privacy-url"):
        assert option in result.stdout


def test_cli_builds_a_valid_package_with_the_app_id_from_the_settings(tmp_path: Path) -> None:
    result = forumbot("manifest", "build", *CLI_OPTIONS, cwd=tmp_path, env={"MicrosoftAppId": APP_ID})
    assert result.returncode == 0, result.stderr
    manifest, files = read_package(tmp_path / "var" / "forumbot-teams-app.zip")
    assert manifest["id"] == APP_ID
    assert manifest["developer"]["name"] == "Västerås stad"
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    assert schema_errors(manifest) == []


def test_cli_refuses_a_bad_app_id_with_exit_2(tmp_path: Path) -> None:
    output = tmp_path / "app.zip"
    result = forumbot(
        "manifest", "build", *CLI_OPTIONS, "--app-id", "forumbot", "--output", str(output), cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("forumbot: ") and "not a GUID" in result.stderr
    assert not output.exists()


def test_cli_names_what_is_missing(tmp_path: Path) -> None:
    result = forumbot("manifest", "build", "--app-id", APP_ID, cwd=tmp_path)
    assert result.returncode == 2
    assert "missing domain (--domain)" in result.stderr
    assert not (tmp_path / "var").exists()
