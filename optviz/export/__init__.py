"""Export: race videos, GIFs and PNG frames rendered offscreen, and trajectory data files. No widgets.

- `settings`: what to export (format from the file name, size, frame rate, length, camera move, overlays).
- `timeline`: which race step and which camera each frame shows (pure numbers).
- `pipeline.ExportJob`: scene -> race -> offscreen `SceneView` -> overlays -> encoder thread -> file; a
  cancellable generator of `Progress`, driven by the command line's progress bar or the app's dialog.
- `encoders` (PyAV) and `encoder_thread`; `target` (temporary file renamed when complete).
- `headless`: picks the Qt platform (xcb, eglfs surfaceless, or an Xvfb it starts) before Qt loads.
- `interrupt`: Ctrl+C, SIGTERM and SIGHUP during an export cancel it cleanly (the target keeps its bytes).
- `trajectories`: the JSON and CSV of a race.

This package imports nothing heavy at import time, so `optviz --help` stays fast; Qt, OpenGL and PyAV are
imported by the modules that use them.
"""
