"""Parse `NAME[:k=v,...]` specs from the command line (`--optimizer adam:lr=0.01,beta1=0.9`)."""

from __future__ import annotations

from optviz.core.errors import ValueOutOfRangeError, echo


def parse_spec(text: str, what: str) -> tuple[str, dict[str, str]]:
    """'adam:lr=0.01,beta1=0.9' -> ('adam', {'lr': '0.01', 'beta1': '0.9'}); values stay text for the schema."""
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if not name:
        raise ValueOutOfRangeError(f"{what} {echo(text)} has no name (expected NAME[:key=value,...])")
    values: dict[str, str] = {}
    if rest.strip():
        for part in rest.split(","):
            key, eq, value = part.partition("=")
            if not eq or not key.strip() or not value.strip():
                raise ValueOutOfRangeError(f"{what} {echo(text)}: {part.strip()!r} is not key=value")
            if key.strip() in values:
                raise ValueOutOfRangeError(f"{what} {echo(text)}: {key.strip()} given twice")
            values[key.strip()] = value.strip()
    return name, values
