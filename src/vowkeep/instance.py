"""An opened vowkeep instance: its settings, databases, key store and gate — what the CLI and the web app share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from vowkeep.config import Settings
from vowkeep.policy import versions
from vowkeep.store import migrate
from vowkeep.store.engine import make_engine
from vowkeep.vault.gate import PolicyState, Vault
from vowkeep.vault.keyring import KeyringSource
from vowkeep.vault.keystore import KeyStore


class NotInitialised(Exception):
    """The data directory or database has no published declaration yet (run `vowkeep init`)."""


@dataclass
class Instance:
    settings: Settings
    engine: Engine
    keystore_engine: Engine
    keystore: KeyStore
    vault: Vault

    def close(self) -> None:
        self.vault.close()
        self.engine.dispose()
        self.keystore_engine.dispose()


def load_policy_state(conn: Connection) -> PolicyState | None:
    current = versions.get_current(conn)
    if current is None:
        return None
    return PolicyState(policy=current.policy, version=current.version, reconsent_since=versions.reconsent_since(conn))


def open_instance(settings: Settings, *, migrate_schema: bool = True) -> Instance:
    """Open an initialised instance; raise NotInitialised if there is nothing to open."""
    if settings.is_sqlite and not (settings.data_dir / "vowkeep.db").exists() and "vowkeep.db" in settings.database_url:
        raise NotInitialised(f"{settings.data_dir} holds no vowkeep instance; run `vowkeep init` first")
    engine = make_engine(settings.database_url)
    keystore_engine = make_engine(settings.keystore_url)
    try:
        if migrate_schema:
            migrate.upgrade(engine, "data")
            migrate.upgrade(keystore_engine, "keystore")
        with engine.connect() as conn:
            state = load_policy_state(conn)
        if state is None:
            raise NotInitialised("no declaration is published yet; run `vowkeep init --policy FILE`")
        keystore = KeyStore(
            keystore_engine, KeyringSource(env_value=settings.master_key, key_file=settings.master_key_file)
        )
    except BaseException:
        engine.dispose()
        keystore_engine.dispose()
        raise
    vault = Vault(engine=engine, keystore=keystore, policy_state=state)
    vault.watch_versions(load_policy_state)
    return Instance(settings, engine, keystore_engine, keystore, vault)


@dataclass
class InitResult:
    data_dir: str
    version: int
    admin_username: str
    admin_password: str
    admin_role: str
    api_key: str
    api_key_scopes: list[str]
    master_key_file: str | None


class AlreadyInitialised(Exception):
    """The database already has a published declaration."""


@dataclass
class EmptyInstance:
    """A new data directory with migrated databases and a master key, before anything is published."""

    engine: Engine
    keystore_engine: Engine
    keystore: KeyStore
    master_key_file: str | None

    def dispose(self) -> None:
        self.engine.dispose()
        self.keystore_engine.dispose()


def create_empty(settings: Settings) -> EmptyInstance:
    """Make the data directory (mode 0700), migrate both databases and write a master key file (unless the key
    comes from the environment); AlreadyInitialised if the database or the key file is already there."""
    from vowkeep.vault.keyring import Keyring, write_key_file

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.chmod(0o700)
    engine = make_engine(settings.database_url)
    keystore_engine = make_engine(settings.keystore_url)
    try:
        migrate.upgrade(engine, "data")
        migrate.upgrade(keystore_engine, "keystore")
        with engine.connect() as conn:
            if versions.latest_number(conn) is not None:
                raise AlreadyInitialised(f"{settings.data_dir} already holds a vowkeep instance")
        key_file = None
        if not settings.master_key:
            if settings.master_key_file.exists():
                raise AlreadyInitialised(f"{settings.master_key_file} already exists; it would be overwritten")
            write_key_file(settings.master_key_file, Keyring.generate())
            key_file = str(settings.master_key_file)
        keystore = KeyStore(
            keystore_engine, KeyringSource(env_value=settings.master_key, key_file=settings.master_key_file)
        )
    except BaseException:
        engine.dispose()
        keystore_engine.dispose()
        raise
    return EmptyInstance(engine, keystore_engine, keystore, key_file)


def first_credentials(conn: Connection, *, policy, created_by: str, admin_username: str = "admin"):
    """The first administrator (a role with `manage_operators`) and a `collect` API key: (admin, password, key)."""
    from vowkeep.vault import apikeys, operators

    roles = [r.key for r in policy.roles if "manage_operators" in r.permissions]
    if not roles:
        raise ValueError("the declaration has no role with the `manage_operators` permission for a first admin")
    admin, password = operators.add(conn, policy=policy, username=admin_username, role=roles[0])
    token, key = apikeys.create(conn, policy=policy, name="default-service", scopes=["collect"], created_by=created_by)
    return admin, password, token, key


def init_instance(settings: Settings, loaded, *, admin_username: str = "admin") -> InitResult:
    """Create the data directory, master key, databases, version 1, a first admin and a service API key."""
    policy = loaded.policy
    if not any("manage_operators" in r.permissions for r in policy.roles):
        raise ValueError("the declaration has no role with the `manage_operators` permission for a first admin")
    empty = create_empty(settings)
    try:
        # Create the instance's system keys now, so a wrong master key shows up at init and not at the first read.
        for name in ("audit-chain", "blind-index", "system-data", "tokens"):
            empty.keystore.system_key(name)
        with empty.engine.begin() as conn:
            version, _ = versions.publish(conn, loaded=loaded, published_by="init")
            admin, password, token, key = first_credentials(
                conn, policy=policy, created_by="init", admin_username=admin_username
            )
    finally:
        empty.dispose()
    return InitResult(
        data_dir=str(settings.data_dir),
        version=version.version,
        admin_username=admin.username,
        admin_password=password,
        admin_role=admin.role,
        api_key=token,
        api_key_scopes=list(key.scopes),
        master_key_file=empty.master_key_file,
    )
