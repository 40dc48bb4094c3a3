"""How much memory a race needs, checked before any array is allocated.

The limits on one side of a start grid and on the steps per run each look harmless, but their product does
not: `grid:512x512` with 100,000 steps and four optimizers would keep about 10^11 points. A race keeps, for
every optimizer, start and step, its position and the scored arrays derived from it (loss, gradient and
update norms, distance, masks) plus the temporaries of scoring: about `BYTES_PER_POINT` bytes. A request
over the limit is refused with one line naming the estimate and the limit, instead of dying in numpy.
"""

from __future__ import annotations

from optviz.core.errors import OptvizError

#: Bytes a race holds per optimizer, start and step: raw positions (2 float64) and their scored copy, the
#: frozen copy and a gradient (2 float64 each), losses, gradient and update norms, distances and their masked
#: copies (float64), and the boolean masks of scoring.
BYTES_PER_POINT = 160
#: The most a race may take whatever the machine has: a slider must never freeze a laptop.
HARD_LIMIT = 4 * 2**30
#: The share of the memory available now that a race may take.
AVAILABLE_SHARE = 0.5


def race_memory_bytes(k_count: int, m_count: int, steps: int) -> int:
    """Estimated peak bytes of racing `k_count` optimizers from `m_count` starts for `steps` steps."""
    return max(k_count, 0) * max(m_count, 0) * (max(steps, 0) + 1) * BYTES_PER_POINT


def available_memory() -> int | None:
    """Bytes the system can give without swapping (MemAvailable on Linux), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def race_memory_limit() -> int:
    """The most a race may take: `HARD_LIMIT`, or less when half of the available memory is less."""
    available = available_memory()
    if available is None:
        return HARD_LIMIT
    return int(min(HARD_LIMIT, available * AVAILABLE_SHARE))


def format_bytes(n: float) -> str:
    """'512 B', '1.5 MiB', '4.0 GiB': binary units, as the limit is set."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            break
    return f"{n:.1f} {unit}"


def check_race_memory(k_count: int, m_count: int, steps: int, limit: int | None = None) -> None:
    """Refuse (one-line `OptvizError`) a race whose estimate exceeds `limit` (default `race_memory_limit()`)."""
    need = race_memory_bytes(k_count, m_count, steps)
    limit = race_memory_limit() if limit is None else limit
    if need > limit:
        raise OptvizError(
            f"this race needs about {format_bytes(need)} of memory ({k_count} optimizer(s) x {m_count} start(s) "
            f"x {steps} steps), more than the {format_bytes(limit)} allowed: use fewer starts or steps"
        )
