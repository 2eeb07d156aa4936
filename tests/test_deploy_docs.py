"""docs/deploy.md and deploy/compose.yml name exactly the variables the code reads.

Two directions: every variable those files name is read by our code (or by the image that
receives it, listed below with the reason), and every variable our code reads is described
in docs/deploy.md. A renamed or new variable fails here until the deploy notes follow.
"""

from __future__ import annotations

import ast
import re

import yaml

from bot.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "deploy.md"
COMPOSE = PROJECT_ROOT / "deploy" / "compose.yml"
CODE_DIRS = ("bot", "handlers", "nlu")
# Read by software we do not write; the deploy files may set them.
OTHERS = {
    "POSTGRES_USER": "the postgres image",
    "POSTGRES_PASSWORD": "the postgres image and compose substitution",
    "POSTGRES_DB": "the postgres image",
}
NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def _env_reads() -> set[str]:
    """Names our code reads from the environment: `<...env...>.get("NAME")`,
    `<...environ>["NAME"]` and constants named `*_ENV`."""
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    receiver = ast.unparse(node.func.value)
                    if node.func.attr == "get" and re.search(r"env(iron)?$", receiver):
                        first = node.args[0] if node.args else None
                        if isinstance(first, ast.Constant) and isinstance(first.value, str):
                            found.add(first.value)
                elif isinstance(node, ast.Subscript) and re.search(
                    r"env(iron)?$", ast.unparse(node.value)
                ):
                    if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                        found.add(node.slice.value)
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id.endswith("_ENV"):
                            found.add(str(node.value.value))
    return {name for name in found if NAME.match(name)}


def _config_override(name: str) -> bool:
    """VENTANILLA_<SECTION>_<KEY> (or VENTANILLA_<KEY>) names a key of config.yml."""
    if not name.startswith("VENTANILLA_"):
        return False
    raw = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    parts = name[len("VENTANILLA_") :].lower().split("_", 1)
    if len(parts) == 2 and isinstance(raw.get(parts[0]), dict):
        return parts[1] in raw[parts[0]]
    return "_".join(parts) in raw


def _documented() -> set[str]:
    names = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))
    return {n for n in names if NAME.match(n) and "<" not in n}


def _compose_names() -> set[str]:
    text = COMPOSE.read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    for service in (yaml.safe_load(text).get("services") or {}).values():
        environment = service.get("environment") or {}
        names |= set(environment if isinstance(environment, dict) else [])
    return names


def _known(name: str, reads: set[str]) -> bool:
    return name in reads or _config_override(name) or name in OTHERS or name in RASA_IMAGE


RASA_IMAGE = {"RASA_TELEMETRY_ENABLED", "LOG_LEVEL", "SANIC_ACCESS_LOG"}  # Dockerfile.nlu


def test_every_variable_the_deploy_notes_name_exists() -> None:
    reads = _env_reads()
    named = _documented() | _compose_names()
    assert {n for n in named if not _known(n, reads)} == set()


def test_every_variable_the_code_reads_is_in_the_deploy_notes() -> None:
    assert _env_reads() - _documented() == set()


def test_the_checks_can_fail() -> None:
    reads = _env_reads()
    assert {"DATABASE_URL", "VENTANILLA_SECRET_KEY", "NLU_URL"} <= reads
    assert not _known("VENTANILLA_NO_SUCH_SETTING", reads)
    assert not _known("TELEGRAM_TOKEN", reads)  # the real name is TELEGRAM_BOT_TOKEN
    assert _config_override("VENTANILLA_SERVER_PORT") and _config_override("VENTANILLA_MODE")
