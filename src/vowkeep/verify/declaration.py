"""The published version is the declaration file (NTC-1): what the instance enforces and shows is what the file on
disk says — `--policy FILE`, or the instance's own declaration file (`VOWKEEP_POLICY`) when it records one."""

from __future__ import annotations

from vowkeep.policy.errors import PolicyError
from vowkeep.policy.load import load_file
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, not_applicable, outcome

NAME, TITLE, PROMISES = "published-policy", "Published version matches the declaration file", ("NTC-1",)


def published_policy(ctx: Context) -> CheckResult:
    path = ctx.policy_file
    if path is None:
        return not_applicable(
            NAME, TITLE, PROMISES, "no declaration file to compare with (give --policy FILE, or set VOWKEEP_POLICY)"
        )
    current = ctx.versions[-1]
    try:
        loaded = load_file(path)
    except PolicyError as exc:
        first = exc.problems[0].message if exc.problems else "is not a valid declaration"
        return outcome(
            NAME, TITLE, PROMISES, [Finding(f"{path}: {first}", {"file": str(path)})], ok="", bad="{n} problem"
        )
    if loaded.digest == current.digest:
        return outcome(
            NAME,
            TITLE,
            PROMISES,
            [],
            ok=f"version {current.version} (sha256 {current.digest[:12]}…) is {path}",
            bad="",
        )
    older = next((v.version for v in ctx.versions if v.digest == loaded.digest), None)
    if older is not None:
        message = f"{path} is version {older}, but version {current.version} is published"
    else:
        from vowkeep.policy.diff import diff

        changes = diff(current.policy, loaded.policy)
        kinds = sorted({str(c["kind"]) for c in changes.as_dict()["changes"]})
        said = f" ({len(changes.as_dict()['changes'])} changes: {', '.join(kinds)})" if kinds else " (wording only)"
        message = (
            f"published version {current.version} (sha256 {current.digest[:12]}…) is not {path} "
            f"(sha256 {loaded.digest[:12]}…){said}; publish it or put the published text back"
        )
    return outcome(
        NAME,
        TITLE,
        PROMISES,
        [Finding(message, {"file": str(path), "version": current.version})],
        ok="",
        bad="the published version is not the declaration file",
    )
