"""Small helpers for API tests: credentials with given scopes or roles."""

from __future__ import annotations

from vowkeep.vault import apikeys, operators


def service_headers(instance, *scopes: str, name: str | None = None) -> dict[str, str]:
    """Authorization headers of a new API key with `scopes`."""
    with instance.engine.begin() as conn:
        token, _ = apikeys.create(
            conn,
            policy=instance.vault.policy,
            name=name or f"svc-{'-'.join(scopes)[:40] or 'none'}",
            scopes=list(scopes),
            created_by="test",
        )
    return {"Authorization": f"Bearer {token}"}


def operator_headers(client, instance, role: str, username: str | None = None) -> dict[str, str]:
    """Authorization headers of a new operator with `role`, signed in through the API."""
    username = username or f"op-{role}"
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username=username, role=role)
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


REGISTRATION = {
    "email": "ada.lovelace@example.org",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "1985-12-10",
    "password": "correct horse battery staple",
    "phone": "+442079460958",
}


def register(client, body: dict | None = None) -> str:
    response = client.post("/api/v1/collect/registration", json=body or REGISTRATION, headers=client.service)
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]
