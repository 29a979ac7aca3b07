"""Checking a submission at a collection point before anything is stored (COL-2, COL-3, COL-4, COL-6, COL-8).

The result is either the clean values to store, field by field, or a `SubmissionError` naming every field that
was wrong — never echoing a value, since values are personal data and error messages end up in logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from vowkeep.policy.model import Channel, CollectionField, CollectionPoint, FieldType

CARD_BRANDS = {"visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay", "maestro", "rupay", "other"}
# 13–19 digits, optionally split by single spaces or dashes; checked with Luhn below.
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LAST4 = re.compile(r"^\d{4}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-:.]{6,200}$")
MAX_PASSWORD = 1024


@dataclass
class FieldProblem:
    field: str
    message: str
    rule: str

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message, "rule": self.rule}


class SubmissionError(Exception):
    """A submission that cannot be stored; `problems` names each field and what was wrong."""

    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass
class CleanSubmission:
    values: dict[str, object]
    dropped: list[str] = field(default_factory=list)
    source: str | None = None


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """Whether any run of 13–19 digits (spaces or dashes allowed between them) in `text` is Luhn-valid (COL-3)."""
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def _walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(int(value)) if float(value).is_integer() else str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _walk_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk_strings(v)


def check_submission(point: CollectionPoint, body: object) -> CleanSubmission:
    """Validate a submission; return the clean values, or raise SubmissionError naming every bad field."""
    if not isinstance(body, dict):
        raise SubmissionError([FieldProblem("(body)", "must be a JSON object of fields", "body")])
    body = dict(body)
    source = None
    dropped: list[str] = []
    if point.channel == Channel.import_:
        source = body.pop("source", None)
        if source not in point.sources:
            declared = ", ".join(f"'{s}'" for s in point.sources) or "none"
            raise SubmissionError(
                [FieldProblem("source", f"an import names its source, one of: {declared}", "import-source")]
            )
    if point.channel == Channel.social_login:
        body, dropped = _reduce_social_profile(point, body)

    # COL-3 comes first and covers every value, declared or not: a card number is refused wherever it hides.
    # The one exception is a valid international phone number in a phone field: some (13-digit Chinese mobiles,
    # say) happen to pass Luhn.
    phone_fields = {f.name for f in point.fields if f.type == FieldType.phone}
    carded = [
        str(k)
        for k, v in body.items()
        if not (k in phone_fields and _is_phone(v)) and any(looks_like_card_number(s) for s in _walk_strings(v))
    ]
    if carded:
        raise SubmissionError(
            [FieldProblem(k, "looks like a payment card number, which is never stored", "card-number") for k in carded]
        )
    fields = {f.name: f for f in point.fields}
    problems = [
        FieldProblem(str(k), f"is not a field of collection point '{point.key}'", "undeclared-field")
        for k in body
        if k not in fields
    ]
    values: dict[str, object] = {}
    for name, spec in fields.items():
        raw = body.get(name)
        if raw is None or raw == "":
            if spec.required:
                problems.append(FieldProblem(name, "is required", "required"))
            continue
        try:
            values[name] = _check_value(spec, raw)
        except ValueError as exc:
            problems.append(FieldProblem(name, str(exc), f"type-{spec.type.value}"))
    if problems:
        raise SubmissionError(problems)
    return CleanSubmission(values=values, dropped=dropped, source=source)


def _reduce_social_profile(point: CollectionPoint, body: dict) -> tuple[dict, list[str]]:
    """Keep only the declared subset of a social-login profile; name what was dropped (COL-6)."""
    provider = body.get("provider")
    profile = body.get("profile")
    if provider not in point.providers:
        declared = ", ".join(point.providers) or "none"
        raise SubmissionError(
            [FieldProblem("provider", f"must be one of the declared providers: {declared}", "provider")]
        )
    if not isinstance(profile, dict):
        raise SubmissionError([FieldProblem("profile", "must be the provider's profile object", "profile")])
    kept = {}
    wanted = {f.source_key or f.name: f.name for f in point.fields}
    for key, value in profile.items():
        if key in wanted:
            kept[wanted[key]] = value
    dropped = sorted(str(k) for k in profile if k not in wanted)
    extra = [k for k in body if k not in ("provider", "profile")]
    if extra:
        raise SubmissionError(
            [FieldProblem(str(k), f"is not part of a '{point.key}' submission", "undeclared-field") for k in extra]
        )
    return kept, dropped


def _check_value(spec: CollectionField, raw: object) -> object:
    kind = spec.type
    if kind == FieldType.boolean:
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind == FieldType.number:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("must be a number")
        return raw
    if not isinstance(raw, str):
        raise ValueError("must be text")
    text = raw.strip()
    if len(text) > spec.max_length:
        raise ValueError(f"is longer than {spec.max_length} characters")
    if kind == FieldType.text:
        return text
    if kind == FieldType.email:
        return _email(text)
    if kind == FieldType.phone:
        return _phone(text)
    if kind == FieldType.postal_code:
        if not _POSTAL_CODE.match(text):
            raise ValueError("is not a postal code (2–10 letters, digits, spaces or dashes)")
        return text.upper()
    if kind == FieldType.date:
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            raise ValueError("is not a date in the form YYYY-MM-DD") from None
        if not date(1900, 1, 1) <= parsed <= date(2200, 1, 1):
            raise ValueError("is not a plausible date")
        return parsed.isoformat()
    if kind == FieldType.country:
        if not _COUNTRY.match(text.upper()):
            raise ValueError("is not a two-letter ISO 3166 country code")
        return text.upper()
    if kind == FieldType.url:
        if not re.match(r"^https?://[^\s/$.?#][^\s]*$", text, re.IGNORECASE):
            raise ValueError("is not an http(s) URL")
        return text
    if kind == FieldType.choice:
        if text not in (spec.choices or []):
            raise ValueError(f"must be one of: {', '.join(spec.choices or [])}")
        return text
    if kind == FieldType.password:
        if not 8 <= len(raw) <= MAX_PASSWORD:
            raise ValueError(f"must be 8 to {MAX_PASSWORD} characters")
        return hash_password(raw)
    if kind == FieldType.card_token:
        if not _TOKEN.match(text):
            raise ValueError("is not a payment processor's token")
        return text
    if kind == FieldType.card_brand:
        if text.lower() not in CARD_BRANDS:
            raise ValueError(f"must be one of: {', '.join(sorted(CARD_BRANDS))}")
        return text.lower()
    if kind == FieldType.card_last4:
        if not _LAST4.match(text):
            raise ValueError("must be exactly four digits")
        return text
    raise ValueError(f"has an unsupported type {kind.value}")


def _email(text: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("is not a valid e-mail address") from None


def _phone(text: str) -> str:
    import phonenumbers

    if not text.startswith("+"):
        raise ValueError("must be an international number in E.164 form, starting with +")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_phone(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(_phone(value.strip()))
    except ValueError:
        return False


_hasher = None


def hash_password(password: str) -> str:
    """An argon2id hash (COL-4); the password itself is never stored."""
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()  # argon2id with the library's recommended parameters
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_field_value(point: CollectionPoint, name: str, raw: object) -> object:
    """Validate one new value for a field of `point` (rectification goes through the same checks as collection)."""
    spec = next((f for f in point.fields if f.name == name), None)
    if spec is None:
        raise SubmissionError(
            [FieldProblem(name, f"is not a field of collection point '{point.key}'", "undeclared-field")]
        )
    if not (spec.type == FieldType.phone and _is_phone(raw)) and any(
        looks_like_card_number(s) for s in _walk_strings(raw)
    ):
        raise SubmissionError(
            [FieldProblem(name, "looks like a payment card number, which is never stored", "card-number")]
        )
    if raw is None or raw == "":
        raise SubmissionError([FieldProblem(name, "cannot be emptied by a correction; ask for erasure", "required")])
    try:
        return _check_value(spec, raw)
    except ValueError as exc:
        raise SubmissionError([FieldProblem(name, str(exc), f"type-{spec.type.value}")]) from None
