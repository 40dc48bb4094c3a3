"""The desktop app: a window around the GL scene, with the race, surface, leaderboard and chart panels.

Data flows one way (docs/ARCHITECTURE.md): widgets write the `SceneModel`; the model emits one signal per
attribute, then `raceInputsChanged`; the `RaceScheduler` runs the core's `RaceSession` on a worker thread
and hands the result back to the model; the view, charts and leaderboard redraw from the model. Widgets
that show a model value update with their signals blocked, so a change never echoes back into the model.

Laid out by feature, one purpose per module:

- `model`: `SceneModel`, the single source of truth (scene, current race result, time cursor, selection,
  which optimizers are shown).
- `shell/`: `main_window` (the window), `main` (`run_app`, what `optviz` calls), `files` (File menu actions,
  recent files, settings), `about`, `screenshot` (`--screenshot`).
- `widgets/`: shared controls and look: `param_controls` (forms from a parameter schema), `picker` (the
  searchable optimizer list), `theme`, `icons`.
- `race/`: `scheduler` (jobs on a worker), `race_panel` (the optimizers and their hyperparameters),
  `transport` (the animation clock and its tool bar).
- `readouts/`: `leaderboard`, `charts`, `memory_chart`, and `metrics` (their numpy summaries).
- `view/`: `view_panel` (the 3-D view with picking), `legend`.
- `surface/`: `surface_panel` (the surface, its parameters, the formula box), `previews`.
- `learned/`: `learned_panel` (recipe, progress, honesty readouts), `learned_warning` (the plane-fit warning).
- `training/`: the Training panel: `training_panel`, `training_setup`, `training_optimizers`,
  `training_charts`, `training_worker`.
- `export/`: `export_actions` (File > Export: trajectories, snapshots), `export_dialog` (the video dialog).
"""
