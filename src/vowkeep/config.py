"""Settings from the environment (`VOWKEEP_*`), overridable by command-line flags.

| variable | default |
|---|---|
| `VOWKEEP_DATA_DIR` | `./vowkeep-data` |
| `VOWKEEP_DATABASE_URL` | `sqlite:///<data dir>/vowkeep.db` |
| `VOWKEEP_KEYSTORE_URL` | `sqlite:///<data dir>/keys.db` (a separate file, so data backups hold no keys) |
| `VOWKEEP_MASTER_KEY` | read from `<data dir>/master.key` |
| `VOWKEEP_POLICY` | the published declaration in the database |
| `VOWKEEP_SMTP_URL` | none: mail stays queued |
| `VOWKEEP_BASE_URL` | `http://127.0.0.1:8000` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DATA_DIR = "vowkeep-data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    keystore_url: str
    master_key: str | None = field(default=None, repr=False)
    policy_path: Path | None = None
    smtp_url: str | None = field(default=None, repr=False)
    base_url: str = "http://127.0.0.1:8000"

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes) -> Settings:
        """A copy with the non-None values of `changes` applied (how CLI flags override the environment)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def from_env(env: dict[str, str] | None = None, *, data_dir: str | Path | None = None, **overrides) -> Settings:
    """Read settings from the environment; `data_dir` and `overrides` (flags) win over it."""
    env = os.environ if env is None else env
    directory = Path(data_dir or env.get("VOWKEEP_DATA_DIR") or DEFAULT_DATA_DIR).absolute()
    settings = Settings(
        data_dir=directory,
        database_url=env.get("VOWKEEP_DATABASE_URL") or f"sqlite:///{directory / 'vowkeep.db'}",
        keystore_url=env.get("VOWKEEP_KEYSTORE_URL") or f"sqlite:///{directory / 'keys.db'}",
        master_key=env.get("VOWKEEP_MASTER_KEY") or None,
        policy_path=Path(env["VOWKEEP_POLICY"]) if env.get("VOWKEEP_POLICY") else None,
        smtp_url=env.get("VOWKEEP_SMTP_URL") or None,
        base_url=(env.get("VOWKEEP_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
    )
    return settings.with_overrides(**overrides)
