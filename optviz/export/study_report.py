"""A study's report as one self-contained HTML file: the set-up, the decision questions answered, the
comparison table, and the pictures (best objective so far per trial, the best trials' validation curves, the
Pareto view, the grid heat maps) embedded as base64 PNG, painted by `export/plots.py` as `optviz tune --png`
paints its charts. No script, no external file: it opens anywhere and can be sent as it is.
"""

from __future__ import annotations

import base64
import html
import math

import numpy as np
from PySide6 import QtGui

from optviz import __version__
from optviz.core.palette import PALETTE
from optviz.core.study.report import StudyReport
from optviz.core.study.space import NEAR_ONE
from optviz.core.study.storage import safe_url
from optviz.export.plots import Axis, curves_png, heatmap_png, padded, scatter_png, value_range

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; background: #15171c; color: #e6e9ef; margin: 2em auto;
       max-width: 1000px; line-height: 1.45; }
h1, h2 { font-weight: 600; } h2 { margin-top: 1.8em; border-bottom: 1px solid #333a45; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 14px; }
th, td { padding: .3em .7em; border-bottom: 1px solid #2a2f38; text-align: right; }
th { color: #9aa3b2; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
.muted { color: #9aa3b2; font-size: 13px; } img { max-width: 100%; margin: .5em 0; display: block; }
dt { color: #9aa3b2; } dd { margin: 0 0 .6em 0; font-size: 17px; }
td.bar { text-align: left; min-width: 14em; }
.bar span { display: inline-block; height: .8em; border-radius: 2px; vertical-align: middle; margin-right: .4em; }
"""


def study_html(report: StudyReport, storage: str) -> str:
    """The whole report as HTML text."""
    s = report.setup
    colours = {o.name: QtGui.QColor(PALETTE[i % len(PALETTE)]) for i, o in enumerate(s.optimizers)}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>optviz study {_e(s.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Study {_e(s.name)}</h1>",
        f'<p class="muted">{_e(_setup_line(report))}<br>storage: {_e(safe_url(storage))}; optviz {__version__}</p>',
        "<h2>The answer, measured on this set-up</h2><dl>",
        *[f"<dt>{_e(q)}</dt><dd>{_e(a)}</dd>" for q, a in report.answers],
        "</dl>",
        "<h2>Each optimizer at its tuned best</h2>",
        _table(report),
        '<p class="muted">Loss and accuracy: mean ± population standard deviation over the seeds of the best trial. '
        "Sensitivity: the share of finished trials within 10 % of the optimizer's best objective"
        + (
            " (in TPE mode trials gather near good settings, so this flatters every optimizer alike)."
            if s.mode == "tpe"
            else "."
        )
        + " Failed trials were interrupted, stopped or skipped and did not count toward the budget.</p>",
        "<h2>Which hyperparameter mattered</h2>",
        _importance_table(report, colours),
        "<p class=\"muted\">Optuna's parameter importances (PED-ANOVA) over each optimizer's finished trials: "
        "how much more concentrated the best trials' values of a hyperparameter are than all trials' values; "
        "the shares of one optimizer add up to 100 %. A diverged trial counts as the worst.</p>",
        "<h2>Pictures</h2>",
    ]
    for png in _pictures(report, colours):
        parts.append(f'<img alt="" src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    parts.append("<h2>Every trial</h2>")
    for name, trials in report.trials.items():
        parts.append(f"<h3>{_e(name)}</h3>" + _trial_table(trials))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _setup_line(report: StudyReport) -> str:
    s = report.setup
    mode = f"grid of {s.grid_points} points per axis" if s.mode == "grid" else "TPE search"
    tuned = ", ".join(t.text() for t in s.tune)
    return (
        f"{s.model} on {s.dataset}, {s.steps} steps of batch {s.batch_size}, seeds {s.seed}..{s.seed + s.seeds - 1}, "
        f"{s.device}, {s.precision}; tuning {tuned} by {mode}, {report.rows[0].budget} trials per optimizer"
        + ("; median pruner" if s.pruner else "")
    )


def _table(report: StudyReport) -> str:
    head = (
        "<tr><th>optimizer</th><th>trials</th><th>failed</th><th>best setting</th><th>val loss</th>"
        "<th>accuracy</th><th>state B/param</th><th>peak memory</th><th>samples/s</th>"
        "<th>trials to 1 %</th><th>sensitivity</th><th>Pareto</th></tr>"
    )
    rows = []
    for r in report.rows:
        setting = ", ".join(f"{k}={_num(v)}" for k, v in r.best_params.items()) or "-"
        rows.append(
            f"<tr><td>{_e(r.optimizer)}</td><td>{r.finished}/{r.budget}</td><td>{r.failed}</td><td>{_e(setting)}</td>"
            f"<td>{_pm(r.val_loss, r.val_loss_spread)}</td><td>{_pm(r.accuracy, r.accuracy_spread)}</td>"
            f"<td>{_num(r.state_per_param, '.2f')}</td><td>{_bytes(r.peak_bytes)}</td>"
            f"<td>{_num(r.throughput, ',.0f')}</td><td>{r.trials_to_near or '-'}</td>"
            f"<td>{_pct(r.sensitivity)}</td><td>{'yes' if r.pareto else ''}</td></tr>"
        )
    return "<table>" + head + "".join(rows) + "</table>"


def _importance_table(report: StudyReport, colours: dict[str, QtGui.QColor]) -> str:
    names = list(dict.fromkeys(t.name for t in report.setup.tune))
    head = "<tr><th>optimizer</th><th>from trials</th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"
    rows = []
    for name, weight in report.importances.items():
        if not weight.values:
            cells = f'<td colspan="{len(names)}" class="bar muted">{_e(weight.note)}</td>'
        else:
            cells = "".join(_importance_cell(weight.values.get(n), colours[name]) for n in names)
        rows.append(f"<tr><td>{_e(name)}</td><td>{weight.trials}</td>{cells}</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def _importance_cell(share: float | None, colour: QtGui.QColor) -> str:
    """A share as a bar and a percentage; a hyperparameter the optimizer does not have (SGD's beta2) is '-'."""
    if share is None:
        return '<td class="bar muted">-</td>'
    return f'<td class="bar"><span style="width:{share * 8:.2f}em; background:{colour.name()}"></span>{share:.0%}</td>'


def _trial_table(trials: list) -> str:
    rows = ["<tr><th>#</th><th>state</th><th>objective</th><th>setting</th><th>seconds</th><th>note</th></tr>"]
    for t in sorted(trials, key=lambda t: t.number):
        setting = ", ".join(f"{k}={_num(v)}" for k, v in t.params.items())
        rows.append(
            f"<tr><td>{t.number}</td><td>{t.state}</td><td>{_num(t.value)}</td><td>{_e(setting)}</td>"
            f"<td>{_num(t.seconds, '.1f')}</td><td>{_e(t.note)}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _pictures(report: StudyReport, colours: dict[str, QtGui.QColor]) -> list[bytes]:
    pictures = []
    s = report.setup
    history = {k: v for k, v in report.history.items() if any(math.isfinite(b) for _, b in v)}
    if history:
        ys = np.array([b for v in history.values() for _, b in v], dtype=float)
        log = _wide(ys)
        low, high = padded(*value_range(ys, log=log), log=log)
        curves = [
            (name, np.arange(1, len(v) + 1, dtype=float), np.array([b for _, b in v]), colours[name])
            for name, v in history.items()
        ]
        top = max(2.0, float(max(len(v) for v in history.values())))
        pictures.append(
            curves_png(
                "Best validation loss so far, trial by trial",
                "the objective: mean validation loss over the seeds after the step budget",
                Axis("finished trials", 1.0, top),
                Axis("best objective", low, high, log),
                curves,
            )
        )
    if report.curves:
        ys = np.concatenate([np.array(v[1], dtype=float) for v in report.curves.values()])
        log = _wide(ys)
        low, high = padded(*value_range(ys, log=log), log=log)
        curves = [
            (name, np.array(v[0], dtype=float), np.array(v[1], dtype=float), colours[name])
            for name, v in report.curves.items()
        ]
        pictures.append(
            curves_png(
                "Each optimizer's best trial: validation loss",
                "mean over the seeds, at each evaluation",
                Axis("step", 1.0, float(max(2, s.steps))),
                Axis("validation loss", low, high, log),
                curves,
            )
        )
    scored = [r for r in report.rows if r.best_trial is not None]
    if scored:
        mem = np.array([r.peak_bytes for r in scored], dtype=float) / 2**20
        loss = np.array([r.val_loss for r in scored], dtype=float)
        x_log, y_log = _wide(mem), _wide(loss)
        x_low, x_high = padded(*value_range(mem, log=x_log), log=x_log, share=0.15)
        y_low, y_high = padded(*value_range(loss, log=y_log), log=y_log, share=0.15)
        points = [
            (f"{r.optimizer}  {r.throughput:,.0f}/s", float(m), float(v), colours[r.optimizer], r.pareto)
            for r, m, v in zip(scored, mem, loss, strict=True)
        ]
        pictures.append(
            scatter_png(
                "Memory vs loss at each optimizer's best (throughput in the labels)",
                "ringed: on the Pareto front of peak memory, validation loss and throughput",
                Axis("peak memory, MiB", x_low, x_high, x_log),
                Axis("validation loss", y_low, y_high, y_log),
                points,
            )
        )
    for name, g in report.grids.items():
        values = np.array(g.values, dtype=float)
        x_axis, x_order = _grid_axis(g.x_name, g.x_values)
        y_axis, y_order = _grid_axis(g.y_name or "", g.y_values)
        values = values[np.ix_(y_order, x_order)]
        pictures.append(
            heatmap_png(
                f"{name}: objective over the grid",
                "mean validation loss after the step budget; grey: diverged or not yet run",
                x_axis,
                y_axis,
                values,
                ~np.isfinite(values),
                "objective",
            )
        )
    return pictures


def _wide(values: np.ndarray) -> bool:
    """Whether values span more than a factor of ten, so a log scale shows them better than a linear one."""
    finite = values[np.isfinite(values) & (values > 0)]
    return finite.size > 0 and float(finite.max()) > 10 * float(finite.min())


def _grid_axis(label: str, values: list[float]) -> tuple[Axis, list[int]]:
    """An axis whose evenly spread cells are centred on the grid's values, and the order to draw them in.
    Betas and momentum are spaced in 1 - value (0.9, 0.99, 0.999), so they are drawn as 1 - value on a log
    scale; learning rates and other wide ranges on a log scale; the rest linearly."""
    order = list(range(len(values)))
    if len(values) == 1:
        v = values[0]
        return (Axis(label, v * 0.5, v * 1.5) if v > 0 else Axis(label, v - 0.5, v + 0.5)), order
    if label in NEAR_ONE and values[-1] < 1:
        shown = [1 - v for v in values][::-1]
        order = order[::-1]
        label = f"1 − {label}"
    else:
        shown = list(values)
    log = (shown[0] > 0 and shown[-1] / shown[0] > 20) or label.startswith("1 − ")
    if log:
        ratio = (shown[-1] / shown[0]) ** (0.5 / (len(shown) - 1))
        return Axis(label, shown[0] / ratio, shown[-1] * ratio, True), order
    half = (shown[-1] - shown[0]) / (len(shown) - 1) / 2
    return Axis(label, shown[0] - half, shown[-1] + half), order


def _e(text: object) -> str:
    return html.escape(str(text))


def _num(value: object, fmt: str = ".4g") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format(value, fmt) if math.isfinite(value) else "-"


def _pm(mean: float, spread: float) -> str:
    return "-" if not math.isfinite(mean) else f"{mean:.4g} ± {spread:.2g}"


def _pct(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.0%}"


def _bytes(n: float) -> str:
    if not math.isfinite(n):
        return "-"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"
