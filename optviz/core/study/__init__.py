"""Tuning studies on real training (Optuna): every chosen optimizer gets the same number of trials, the same
seeds and batches and the same objective, each trial a real training run through `core/learn/training.py`.

- `setup.py`: what a study is (`StudySetup`), stored with the study so every worker runs the same thing;
- `space.py`: what is tuned, from the registry's schemas (ranges, grids);
- `trial.py`: one trial: the training runs of one hyperparameter setting over the seed set;
- `storage.py`: where a study lives (a journal file in the user's data folder, or any Optuna storage URL);
- `worker.py`: the job: create or resume a study, take trials until each optimizer's budget is reached;
- `report.py`: the numbers of a finished study and the decision questions answered from them;
- `importance.py`: which tuned hyperparameter mattered, per optimizer (Optuna's PED-ANOVA over its trials).

Nothing here imports Qt; optuna and torch are imported where they are used.
"""
