"""Build a real vowkeep instance for a test: `vowkeep init` on a temporary data directory."""

from __future__ import annotations

from pathlib import Path

from vowkeep import config
from vowkeep.instance import InitResult, Instance, init_instance, open_instance
from vowkeep.policy import load_file, load_text


def create(
    data_dir: Path, policy: Path | str, *, database_url: str | None = None, **env
) -> tuple[Instance, InitResult]:
    """Initialise and open an instance; `policy` is a file path or YAML text."""
    environment = {"VOWKEEP_DATA_DIR": str(data_dir), **env}
    if database_url:
        environment["VOWKEEP_DATABASE_URL"] = database_url
    settings = config.from_env(environment)
    loaded = load_file(policy) if isinstance(policy, Path) else load_text(policy, "test.yaml")
    result = init_instance(settings, loaded)
    return open_instance(settings), result
