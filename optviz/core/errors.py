"""User-facing errors: each carries one line that names what is wrong and how to fix it."""


class OptvizError(Exception):
    """A problem with what the user asked for (not a bug). Shown as one line, exit status 2."""


class UnknownNameError(OptvizError):
    """An optimizer, surface, hyperparameter or scene key that does not exist."""


class ValueOutOfRangeError(OptvizError):
    """A value outside its schema's range, or of the wrong type."""


class FormulaError(OptvizError):
    """A custom surface formula that does not parse. `position` is the 0-based column of the bad token."""

    #: Longest part of the formula an error echoes: a 100 kB paste must not become a 100 kB error line.
    ECHO = 80

    def __init__(self, message: str, position: int, formula: str) -> None:
        self.position = position
        self.formula = formula
        excerpt, _column = self._excerpt()
        super().__init__(f"{message} at column {position + 1}: {excerpt!r}")

    def _excerpt(self) -> tuple[str, int]:
        """The part of the formula around the error (all of it when short), and the error's column in it."""
        text, pos = self.formula, self.position
        if len(text) <= self.ECHO:
            return text, pos
        start = min(max(pos - self.ECHO // 2, 0), len(text) - self.ECHO)
        head = "…" if start > 0 else ""
        tail = "…" if start + self.ECHO < len(text) else ""
        return f"{head}{text[start : start + self.ECHO]}{tail}", pos - start + len(head)

    def pointer(self) -> str:
        """The formula (around the error, when long) with a caret under the offending token."""
        excerpt, column = self._excerpt()
        return f"{excerpt}\n{' ' * column}^"


class SceneError(OptvizError):
    """A scene file that cannot be read: names the file, the key and, where known, the line."""


def echo(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to about `limit` characters: error lines name what was given without echoing a
    100 kB paste back at the user."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
