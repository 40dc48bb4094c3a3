"""The desktop app: a window around the GL scene, with the race, surface, leaderboard and chart panels.

Data flows one way (docs/ARCHITECTURE.md): widgets write the `SceneModel`; the model emits one signal per
attribute; the `RaceScheduler` turns model changes into race jobs on a worker thread and hands the arrays
back to the model; the view, charts and leaderboard redraw from the model. Widgets that show a model value
update with their signals blocked, so a change never echoes back into the model.

Modules, one purpose each:

- `model`: `SceneModel`, the single source of truth (scene, current race result, time cursor, selection).
- `scheduler`: `RaceScheduler`, race jobs on a worker with a per-optimizer cache and stale-result discarding.
- `metrics`: pure numpy summaries of a race at a step (leaderboard rows, chart series).
- `transport`: the animation clock (`Transport`) and its tool bar.
- `race_panel`, `param_controls`, `picker`: the optimizers and their hyperparameters.
- `surface_panel`, `previews`: the surface, its parameters, the formula box.
- `view_panel`, `legend`: the 3-D view with picking and the legend overlay.
- `leaderboard`, `charts`, `memory_chart`: the read-outs.
- `files`: File menu actions, recent files and settings; `about`: the About box.
- `theme`, `icons`: the dark look and the painted icons.
- `main_window`: the window; `screenshot`: `--screenshot`; `main`: `run_app`, what `optviz` calls.
"""
