"""Fast elementwise update rules that reproduce library optimizers to float64 round-off.

Each rule is the library's own single-tensor step, transcribed operation by operation from its source
(torch.optim's `_single_tensor_*` functions, pytorch_optimizer's per-parameter loops, schedulefree's step), so
the trajectory we draw is the library's. The same code runs on Python floats (`SCALAR`, one coordinate) and on
numpy arrays (`NUMPY`, a batch of starts): only arithmetic and `xp` functions are used.

Rules are shaped like optax's init/update pairs: each registry row's `fast` is a factory that takes the resolved
hyperparameters once and returns a `FastRule` whose `init`, `step` and `display` close over the constants
worked out from them (lr, 1 - beta1, ...), named, so a step reads no hyperparameters at all.

- `torch_optim.py`, `pytorch_optimizer.py`, `schedulefree.py`: the factories, one module per library.
- `ops.py`: the pieces they share (moment updates, bias corrections, weight decay, torch's lerp), and how
  torch's CPU kernels round, which those pieces mirror so rules stay bit for bit.

With that, rules reproduce the library bit for bit, with one exception we cannot mirror: torch's float64 `sqrt`
on CPU (MKL) is not correctly rounded and is one ulp off in ~1.4% of calls. Rules without a square root (SGD,
ASGD, Rprop, Lion, SignSGD, Adamax, Schedule-Free SGD) matched bit for bit on every test path; the others differ
by a few ulps, which only a chaotic path (Adadelta at lr=1 on Rosenbrock) grows into visible differences, as it
does for the library itself when its start moves by one ulp. tests/core/test_fast_rules.py checks every rule
against its library for 300 steps on three surfaces.

State keys are the library's own state names (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...), so tests can
compare them one to one; group-level counters that the libraries keep per parameter group (Schedule-Free's
weight sum) are plain floats in the state.

Hyperparameters are the registry's flat names (`beta1`, `beta2` for `betas`; see `table.py`), and a factory
reads exactly the names in that optimizer's registry schema, no more and no fewer (that test checks both ways).
Library options the registry does not expose stay at the library's default (AdEMAMix's `t_alpha_beta3`, ASGD's
`t0`).
"""
