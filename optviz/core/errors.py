"""User-facing errors: each carries one line that names what is wrong and how to fix it."""


class OptvizError(Exception):
    """A problem with what the user asked for (not a bug). Shown as one line, exit status 2."""


class UnknownNameError(OptvizError):
    """An optimizer, surface, hyperparameter or scene key that does not exist."""


class ValueOutOfRangeError(OptvizError):
    """A value outside its schema's range, or of the wrong type."""


class FormulaError(OptvizError):
    """A custom surface formula that does not parse. `position` is the 0-based column of the bad token."""

    def __init__(self, message: str, position: int, formula: str) -> None:
        self.position = position
        self.formula = formula
        super().__init__(f"{message} at column {position + 1}: {formula!r}")

    def pointer(self) -> str:
        """The formula with a caret under the offending token, for multi-line displays."""
        return f"{self.formula}\n{' ' * self.position}^"


class SceneError(OptvizError):
    """A scene file that cannot be read: names the file, the key and, where known, the line."""
