"""The README's picture of a study's HTML report (assets/study_report.png): the report's own figures, painted by
the code the report uses (`export/study_report.py`), side by side in one PNG.

    python tools/study_report_png.py STORAGE NAME [OUT.png]

The report is HTML with its figures embedded; no HTML renderer is a dependency, so the picture is its figures.
"""

from __future__ import annotations

import argparse
import sys

from PySide6 import QtCore, QtGui


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storage")
    parser.add_argument("name")
    parser.add_argument("out", nargs="?", default="assets/study_report.png")
    parser.add_argument("--figures", type=int, default=2, help="how many of the report's figures (in its order)")
    args = parser.parse_args()

    from optviz.app.shell.main import create_application
    from optviz.core.atomic import atomic_path
    from optviz.core.palette import PALETTE
    from optviz.core.study.report import build_report
    from optviz.core.study.storage import open_storage
    from optviz.core.study.worker import TuningStudy
    from optviz.export.study_report import _pictures

    create_application()
    study = TuningStudy.load(open_storage(args.storage), args.name)
    report = build_report(study.setup, study.records())
    colours = {o.name: QtGui.QColor(PALETTE[i % len(PALETTE)]) for i, o in enumerate(study.setup.optimizers)}
    images = [QtGui.QImage.fromData(QtCore.QByteArray(png)) for png in _pictures(report, colours)[: args.figures]]
    gap = 16
    width = sum(i.width() for i in images) + gap * (len(images) - 1)
    picture = QtGui.QImage(width, max(i.height() for i in images), QtGui.QImage.Format.Format_RGB32)
    picture.fill(QtGui.QColor("#15171c"))  # the report's page colour
    painter = QtGui.QPainter(picture)
    x = 0
    for image in images:
        painter.drawImage(x, 0, image)
        x += image.width() + gap
    painter.end()
    with atomic_path(args.out) as temp:
        if not picture.save(str(temp), "PNG"):
            sys.stderr.write(f"cannot write {args.out}\n")
            return 1
    print(f"wrote {args.out} ({picture.width()}x{picture.height()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
