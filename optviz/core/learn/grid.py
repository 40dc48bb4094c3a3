"""Loss and accuracy of a real model over an N x N grid on a plane in its weight space.

The reference method (Li et al. 2018's code) loads each grid point's weights into the model and evaluates
the data set, one point at a time (`loop_grid`, kept for tests and the benchmark). `grid_steps` instead
evaluates a chunk of grid points in one call: `torch.func.functional_call` runs the model with weights
given as tensors, and `vmap` maps it over the chunk's leading dimension, so one batched matrix product
replaces hundreds of small ones (our MLPs get a hand-batched kernel that is faster still: `_BatchedMLP`).
It runs on CUDA when there is one, yields progress after every chunk (with the rows finished so far), and
stops between chunks when `cancelled()` says so.

Everything is evaluated on the training split: the loss the optimizers minimise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from optviz.core.learn.datasets import Dataset
from optviz.core.learn.models import loss_and_accuracy
from optviz.core.learn.planes import Plane

#: Bytes of activations one chunk may hold: small enough for a laptop with a wide model, big enough that
#: the per-call overhead vanishes (on this 2-core machine 256 MiB beat 64 MiB side by side).
CHUNK_BYTES = 256 * 2**20
MAX_CHUNK = 1024


@dataclass(frozen=True)
class LossGrid:
    """loss[j, i] and accuracy[j, i] at plane coordinates (xs[i], ys[j]) (the `Surface.grid` layout)."""

    xs: np.ndarray
    ys: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray


@dataclass(frozen=True)
class GridProgress:
    """Where a grid evaluation is: rows finished out of all rows, and the arrays so far (NaN where not yet
    computed; one array per run, filled in place, so copy it to keep a snapshot). `grid` is set on the last
    report of a run that was not cancelled."""

    rows_done: int
    rows: int
    loss: np.ndarray
    accuracy: np.ndarray
    grid: LossGrid | None = None

    @property
    def fraction(self) -> float:
        return self.rows_done / max(self.rows, 1)


def grid_axes(center: tuple[float, float], half_width: float, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Square grid axes: `resolution` values each side of `center`, `half_width` away at the edges.
    An odd resolution puts a node exactly on the centre."""
    a, b = (float(c) for c in center)
    offsets = np.linspace(-float(half_width), float(half_width), int(resolution))
    return a + offsets, b + offsets


def default_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _param_layout(model: nn.Module) -> list[tuple[str, torch.Size, int]]:
    return [(name, p.shape, p.numel()) for name, p in model.named_parameters() if p.requires_grad]


def unflatten(model: nn.Module, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """Split flat weight vectors (..., D) into the model's named parameters, each (..., *shape)."""
    out, offset = {}, 0
    lead = flat.shape[:-1]
    for name, shape, numel in _param_layout(model):
        out[name] = flat[..., offset : offset + numel].reshape(*lead, *shape)
        offset += numel
    return out


def activation_floats(model: nn.Module, sample: torch.Tensor) -> int:
    """Floats of every module's output for one sample: what one grid point costs per data point."""
    total = [0]

    def hook(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            total[0] += output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(sample)
    finally:
        for h in handles:
            h.remove()
    return max(total[0], 1)


def chunk_size(model: nn.Module, dataset: Dataset, budget: int = CHUNK_BYTES) -> int:
    """Grid points per vmap call so that the chunk's activations fit in `budget` bytes."""
    per_point = activation_floats(model, dataset.x_train[:1]) * len(dataset.x_train) * 4
    return int(np.clip(budget // per_point, 1, MAX_CHUNK))


def _prepare(model: nn.Module, dataset: Dataset, plane: Plane, device: torch.device | None, dtype: torch.dtype):
    device = device or default_device()
    # train() mode: identical for these models (no dropout, no batch norm) and it keeps the transformer off
    # its fused inference kernel, which vmap cannot batch. A copy, so the caller's model is left as it was.
    import copy

    net = copy.deepcopy(model).to(device=device, dtype=dtype).train()
    x = dataset.x_train.to(device)
    if x.is_floating_point():
        x = x.to(dtype)
    y = dataset.y_train.to(device)
    basis = plane.basis.to(device=device, dtype=dtype)
    origin = plane.origin.to(device=device, dtype=dtype)
    buffers = {name: b for name, b in net.named_buffers()}
    return net, x, y, origin, basis, buffers


def evaluate_coords(
    model: nn.Module,
    dataset: Dataset,
    plane: Plane,
    coords: np.ndarray,
    *,
    chunk: int | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    cancelled: Callable[[], bool] | None = None,
    on_chunk: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss and accuracy (P,) at plane coordinates (P, 2), batched with functional_call + vmap.

    `on_chunk(done, loss, accuracy)` is called after each chunk; when `cancelled()` turns true the work
    stops between chunks and the points not reached stay NaN.
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    chunk = chunk or chunk_size(model, dataset)
    evaluator = batched_evaluator(model, dataset, plane, device, dtype)
    loss = np.full(len(coords), np.nan)
    accuracy = np.full(len(coords), np.nan)
    for start in range(0, len(coords), chunk):
        if cancelled is not None and cancelled():
            break
        end = min(start + chunk, len(coords))
        loss[start:end], accuracy[start:end] = evaluator(coords[start:end])
        if on_chunk is not None:
            on_chunk(end, loss, accuracy)
    return loss, accuracy


def grid_steps(
    model: nn.Module,
    dataset: Dataset,
    plane: Plane,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    chunk: int | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[GridProgress]:
    """The batched grid as a generator of progress reports (see the module doc).

    The last report carries `grid` unless the work was cancelled; closing the generator also stops it.
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    nx, ny = len(xs), len(ys)
    X, Y = np.meshgrid(xs, ys)
    coords = np.stack([X.ravel(), Y.ravel()], axis=1)
    chunk = chunk or chunk_size(model, dataset)
    loss = np.full((ny, nx), np.nan)
    accuracy = np.full((ny, nx), np.nan)
    done = 0
    # Rows are handed out chunk by chunk: one evaluate_coords call per chunk keeps the generator in charge,
    # so a consumer that stops iterating stops the work.
    prepared = None
    for start in range(0, len(coords), chunk):
        if cancelled is not None and cancelled():
            return
        if prepared is None:
            prepared = batched_evaluator(model, dataset, plane, device, dtype)
        chunk_loss, chunk_accuracy = prepared(coords[start : start + chunk])
        end = start + len(chunk_loss)
        loss.reshape(-1)[start:end] = chunk_loss
        accuracy.reshape(-1)[start:end] = chunk_accuracy
        done = end
        yield GridProgress(done // nx, ny, loss, accuracy)
    grid = LossGrid(xs, ys, loss.copy(), accuracy.copy())
    yield GridProgress(ny, ny, grid.loss, grid.accuracy, grid)


class _Batched:
    """The vmapped evaluator for any model, data set and plane, on its device (built once per grid)."""

    def __init__(self, model, dataset, plane, device, dtype):
        from torch.func import functional_call, vmap

        net, x, y, origin, basis, buffers = _prepare(model, dataset, plane, device, dtype)
        self.net, self.x, self.y, self.origin, self.basis, self.dtype = net, x, y, origin, basis, dtype

        def one(params: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
            return loss_and_accuracy(functional_call(net, {**params, **buffers}, (x,)), y)

        self.batched = vmap(one)

    def weights(self, coords: np.ndarray) -> torch.Tensor:
        c = torch.as_tensor(coords, device=self.origin.device, dtype=self.dtype)
        return self.origin + c @ self.basis.T

    def __call__(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            loss, accuracy = self.batched(unflatten(self.net, self.weights(coords)))
        return loss.double().cpu().numpy(), accuracy.double().cpu().numpy()


class _BatchedMLP(_Batched):
    """Our `MLP` (Flatten, then Linear/ReLU) evaluated with one batched matrix product per layer.

    vmap of `functional_call` turns each Linear into a bmm plus a separate bias add and an out-of-place
    ReLU: on CPU those extra passes over the (points, samples, width) activations cost more than the
    products themselves. Here every layer writes into a reused buffer and adds its bias and ReLU in place.
    And the first layer is not recomputed per point at all: its input is the same data everywhere and its
    weights are affine in the plane coordinates, W(a, b) = W0 + a D1 + b D2, so
    x W(a, b)^T = x W0^T + a x D1^T + b x D2^T, three products made once.
    tests/core/learn/test_grid.py checks it against the per-point loop.
    """

    def __init__(self, model, dataset, plane, device, dtype):
        super().__init__(model, dataset, plane, device, dtype)
        layout = _param_layout(self.net)
        self.layers = [name.removesuffix(".weight") for name, _, _ in layout if name.endswith(".weight")]
        first = self.layers[0]
        # Row 0: the plane's origin; rows 1 and 2: its two directions (weights and biases alike).
        parts = unflatten(self.net, torch.cat([self.origin[None], self.basis.T]))
        w, bias = parts[f"{first}.weight"], parts[f"{first}.bias"]
        with torch.no_grad():
            z = torch.matmul(self.x.flatten(1), w.transpose(1, 2)) + bias[:, None, :]  # (3, samples, width)
        self.first_origin = z[0]
        self.first_directions = z[1:].reshape(2, -1)
        self._buffers: dict[int, torch.Tensor] = {}

    def _buffer(self, slot: int, shape: tuple[int, ...]) -> torch.Tensor:
        # Activations go into buffers kept between chunks: a fresh tensor of this size costs more in page
        # faults than the matrix product that fills it (measured: half the time of a layer on CPU).
        buf = self._buffers.get(slot)
        if buf is None or buf.numel() < np.prod(shape):
            buf = self._buffers[slot] = torch.empty(int(np.prod(shape)), device=self.origin.device, dtype=self.dtype)
        return buf[: int(np.prod(shape))].view(shape)

    def __call__(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            c = torch.as_tensor(coords, device=self.origin.device, dtype=self.dtype)
            params = unflatten(self.net, self.weights(coords))
            h = self._buffer(0, (len(c), self.first_origin.numel()))
            torch.mm(c, self.first_directions, out=h).add_(self.first_origin.reshape(1, -1))
            h = h.view(len(c), *self.first_origin.shape)
            for i, layer in enumerate(self.layers[1:], start=1):
                h.relu_()
                w_t, bias = params[f"{layer}.weight"].transpose(1, 2), params[f"{layer}.bias"][:, None, :]
                out = self._buffer(i % 2, (len(c), h.shape[1], w_t.shape[2]))
                h = torch.bmm(h, w_t, out=out).add_(bias)
            # Mean cross-entropy per point, written out: logsumexp minus the target's logit.
            target = h.gather(-1, self.y.expand(len(h), -1)[..., None])[..., 0]
            loss = (torch.logsumexp(h, dim=-1) - target).mean(dim=1)
            accuracy = (h.argmax(dim=-1) == self.y).to(h.dtype).mean(dim=1)
        return loss.double().cpu().numpy(), accuracy.double().cpu().numpy()


def batched_evaluator(model: nn.Module, dataset: Dataset, plane: Plane, device=None, dtype=torch.float32) -> _Batched:
    """The fastest exact batched evaluator for `model`: the MLP kernel for our MLPs, vmap for the rest."""
    from optviz.core.learn.models import MLP

    kind = _BatchedMLP if type(model) is MLP else _Batched
    return kind(model, dataset, plane, device, dtype)


def compute_grid(
    model: nn.Module, dataset: Dataset, plane: Plane, xs: np.ndarray, ys: np.ndarray, **kwargs
) -> LossGrid:
    """The whole batched grid at once (no progress): the last report of `grid_steps`."""
    grid = None
    for report in grid_steps(model, dataset, plane, xs, ys, **kwargs):
        grid = report.grid
    assert grid is not None
    return grid


def loop_grid(
    model: nn.Module,
    dataset: Dataset,
    plane: Plane,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    batch_size: int | None = None,
) -> LossGrid:
    """The reference method: one grid point at a time, weights written into the model, full data set.

    `batch_size` runs the data set in mini-batches at each point, as Li et al.'s `eval_loss` does with its
    data loader (batch 128 there), weighting each batch's mean by its size; None runs it in one forward.
    """
    net, x, y, origin, basis, _ = _prepare(model, dataset, plane, device, dtype)
    params = [p for p in net.parameters() if p.requires_grad]
    step = len(x) if batch_size is None else int(batch_size)
    loss = np.empty((len(ys), len(xs)))
    accuracy = np.empty((len(ys), len(xs)))
    with torch.no_grad():
        for j, b in enumerate(ys):
            for i, a in enumerate(xs):
                torch.nn.utils.vector_to_parameters(origin + float(a) * basis[:, 0] + float(b) * basis[:, 1], params)
                total_loss = total_correct = 0.0
                for start in range(0, len(x), step):
                    xb, yb = x[start : start + step], y[start : start + step]
                    batch_loss, batch_accuracy = loss_and_accuracy(net(xb), yb)
                    total_loss += float(batch_loss) * len(xb)
                    total_correct += float(batch_accuracy) * len(xb)
                loss[j, i], accuracy[j, i] = total_loss / len(x), total_correct / len(x)
    return LossGrid(np.asarray(xs, float), np.asarray(ys, float), loss, accuracy)
