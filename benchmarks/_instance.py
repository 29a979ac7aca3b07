"""A throwaway vowkeep instance for a benchmark: initialised in a temporary directory, filled through the gate."""

from __future__ import annotations

import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "policies" / "wsoutsourcer.yaml"


def make(directory: Path | None = None, *, database_url: str | None = None):
    """(instance, init result, data dir) for the sample declaration."""
    from vowkeep import config
    from vowkeep.instance import init_instance, open_instance
    from vowkeep.policy import load_file

    data_dir = (directory or Path(tempfile.mkdtemp(prefix="vowkeep-bench-"))) / "data"
    env = {"VOWKEEP_DATA_DIR": str(data_dir)}
    if database_url:
        env["VOWKEEP_DATABASE_URL"] = database_url
    settings = config.from_env(env)
    result = init_instance(settings, load_file(SAMPLE))
    return open_instance(settings), result, data_dir


def fill(instance, count: int, *, point: str = "inquiry") -> list[str]:
    """Collect `count` subjects at `point` through the gate; returns their ids."""
    from vowkeep.vault.actors import Actor
    from vowkeep.vault.intake import check_submission

    declared = instance.vault.policy.collection_point_by_key[point]
    actor = Actor.system("benchmark")
    ids = []
    for i in range(count):
        body = {
            "email": f"person{i}@example.org",
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "message": f"Question number {i}",
        }
        submission = check_submission(
            declared, {k: v for k, v in body.items() if k in {f.name for f in declared.fields}}
        )
        with instance.vault.transaction() as conn:
            ids.append(instance.vault.collect(conn, actor=actor, point=declared, submission=submission).subject_id)
    return ids
