"""Publishing a new version of the declaration on a running instance (NTC-1, NTC-2).

The version row, and everything a material change sets off, commit together; the gate switches to the new
declaration at once in this process, and within a second in every other (it watches the versions table).
"""

from __future__ import annotations

from vowkeep.instance import Instance, load_policy_state
from vowkeep.policy import versions
from vowkeep.policy.load import LoadedPolicy


def publish_declaration(instance: Instance, loaded: LoadedPolicy, *, published_by: str):
    """Publish `loaded` as the next version; returns (version, diff against the previous one).

    A material change queues a notice to every subject with an address, and the pages show a banner (NTC-2).
    """
    from vowkeep.comms import notices

    with instance.vault.transaction() as conn:
        version, changes = versions.publish(conn, loaded=loaded, published_by=published_by)
        notices.on_publish(conn, policy=loaded.policy, version=version)
        state = load_policy_state(conn)
    instance.vault.use_policy(state)
    return version, changes
