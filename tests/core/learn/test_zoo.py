"""The data sets and models load offline, deterministically, and refuse names and pairings that do not exist."""

import pytest
import torch

from optviz.core.errors import OptvizError, UnknownNameError
from optviz.core.learn.datasets import DATASETS, load_dataset
from optviz.core.learn.models import MODELS, loss_and_accuracy, model_spec

PAIRS = [(m, d) for m, spec in MODELS.items() for d, info in DATASETS.items() if info.kind in spec.kinds]


@pytest.mark.parametrize("name", list(DATASETS))
def test_dataset_is_deterministic_and_split(name):
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert len(a.x_val) > 0 and len(a.x_train) > 3 * len(a.x_val)
    assert set(a.y_train.tolist()) == set(range(a.num_classes))
    assert tuple(a.x_train.shape[1:]) == a.input_shape


def test_digits_is_the_real_set():
    d = load_dataset("digits")
    assert len(d.x_train) + len(d.x_val) == 1797
    assert d.num_classes == 10 and float(d.x_train.min()) >= 0.0 and float(d.x_train.max()) <= 1.0


@pytest.mark.parametrize(("model", "dataset"), PAIRS)
def test_every_model_fits_its_datasets_and_is_seeded(model, dataset):
    d = load_dataset(dataset)
    first, second = model_spec(model).build(d, seed=1), model_spec(model).build(d, seed=1)
    for p, q in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(p, q)
    loss, accuracy = loss_and_accuracy(first(d.x_val), d.y_val)
    assert loss.isfinite() and 0.0 <= float(accuracy) <= 1.0


def test_building_does_not_touch_the_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    model_spec("mlp").build(load_dataset("moons"), seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_unknown_names_and_bad_pairs_are_one_clear_error():
    with pytest.raises(UnknownNameError, match=r"unknown model 'resnet'.*mlp"):
        model_spec("resnet")
    with pytest.raises(UnknownNameError, match=r"unknown data set 'mnist'.*digits"):
        load_dataset("mnist")
    with pytest.raises(OptvizError, match=r"model 'cnn' does not fit data set 'moons'.*digits"):
        model_spec("cnn").build(load_dataset("moons"))


def test_batch_order_is_seeded_and_covers_each_epoch():
    from optviz.core.learn.stepping import batch_indices

    a, b = batch_indices(10, 4, seed=2), batch_indices(10, 4, seed=2)
    first = [next(a) for _ in range(4)]
    assert all(torch.equal(p, next(b)) for p in first)
    assert all(len(batch) == 4 for batch in first)
    assert len(set(torch.cat(first[:2]).tolist())) == 8  # one epoch: no index twice
    full = next(batch_indices(10, 99, seed=0))
    assert sorted(full.tolist()) == list(range(10))


def test_one_registry_step_lowers_the_loss():
    from optviz.core.learn.stepping import evaluate, flat_parameters, make_closure
    from optviz.core.optimizers import get_optimizer

    d = load_dataset("moons")
    model = model_spec("mlp").build(d)
    spec = get_optimizer("adam")
    opt = spec.build(list(model.parameters()), spec.resolve({"lr": 0.01}))
    before, w0 = evaluate(model, d.x_train, d.y_train)[0], flat_parameters(model)
    for _ in range(20):
        spec.step(opt, make_closure(spec, model, d.x_train, d.y_train, opt))
    assert evaluate(model, d.x_train, d.y_train)[0] < before
    assert w0.dtype == torch.float64 and w0.shape == flat_parameters(model).shape
