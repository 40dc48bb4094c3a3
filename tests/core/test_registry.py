"""The optimizer registry: complete, consistent with the libraries, and usable by every consumer."""

from __future__ import annotations

import inspect

import pytest
import torch

from optviz.core.errors import OptvizError, UnknownNameError, ValueOutOfRangeError
from optviz.core.optimizers import REGISTRY, FastRule, PairRule, get_optimizer, surface_optimizers
from optviz.core.optimizers.library import import_class, library_kwargs
from optviz.core.surfaces import SURFACES

REQUIRED = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "amsgrad",
    "adamax",
    "nadam",
    "radam",
    "adafactor",
    "lamb",
    "novograd",
    "lion",
    "adam8bit",
    "shampoo",
    "adahessian",
    "schedulefree_adamw",
    "rprop",
    "asgd",
    "lbfgs",
    "sparse_adam",
    "muon",
    "soap",
    "ademamix",
    "prodigy",
]


def test_every_required_optimizer_is_registered():
    missing = [n for n in REQUIRED if n not in REGISTRY]
    assert not missing


@pytest.mark.parametrize("name", list(REGISTRY))
def test_entry_is_complete(name):
    spec = REGISTRY[name]
    assert spec.name == name == name.lower()
    assert spec.title and spec.family and spec.source and spec.update_rule
    assert spec.description and "\n" not in spec.description
    assert "lr" in spec.schema.names
    for p in spec.schema:
        assert p.help, f"{name}.{p.name} has no help text (the slider tooltip)"
        p.validate(p.default)  # every default is inside its own range
    # Tuple hyperparameters are exposed by their parts.
    assert "betas" not in spec.schema.names and "etas" not in spec.schema.names
    if spec.fast is not None:
        # Elementwise updates get an elementwise rule; coupled ones (norms, matrices, curvature) a pair rule.
        rule = spec.fast(spec.defaults_for(None))
        assert isinstance(rule, FastRule if spec.elementwise else PairRule)


@pytest.mark.parametrize("name", [n for n, s in REGISTRY.items() if s.preset_of is None])
def test_defaults_are_the_librarys(name):
    """Our defaults are what `import` gives, except where the entry says why (SOAP's precondition_1d)."""
    spec = REGISTRY[name]
    cls = import_class(spec.build.class_path)
    signature = inspect.signature(cls.__init__).parameters
    ours = library_kwargs(spec.schema.defaults())
    deliberate = {("soap", "precondition_1d"), ("lbfgs", "line_search_fn"), ("adafactor", "eps2")}
    for key, value in ours.items():
        if (name, key) in deliberate or key not in signature:
            continue
        lib = signature[key].default
        if isinstance(lib, tuple):
            assert tuple(value) == pytest.approx(lib[: len(value)]), f"{name}.{key}"
        else:
            assert value == pytest.approx(lib), f"{name}.{key}: ours {value}, library {lib}"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_builds_and_steps_where_it_can(name):
    spec = REGISTRY[name]
    numel = max(spec.min_numel, 8)
    shape = (numel // 8, 8) if spec.needs_2d or spec.min_numel else (numel,)
    if spec.surface_unavailable and "sparse" in spec.surface_unavailable:
        emb = torch.nn.Embedding(10, 4, sparse=True)
        opt = spec.build(list(emb.parameters()), spec.schema.defaults())
        emb(torch.tensor([1, 2])).sum().backward()
        opt.step()
        return
    p = torch.randn(shape, requires_grad=True)
    opt = spec.build([p], spec.schema.defaults())
    before = p.detach().clone()

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward(create_graph=spec.needs_hvp)
        return loss

    for _ in range(2):  # SOAP's first step only sets up its eigenbasis
        spec.step(opt, closure)
    assert not torch.equal(before, p.detach())


def test_unavailable_ones_say_why():
    unavailable = {s.name: s.surface_unavailable for s in REGISTRY.values() if not s.on_surfaces}
    assert set(unavailable) == {"adam8bit", "sparse_adam"}
    assert all(len(reason) > 20 for reason in unavailable.values())


def test_presets():
    assert get_optimizer("momentum").schema.get("momentum").default == 0.9
    nesterov = get_optimizer("nesterov").schema.defaults()
    assert nesterov["nesterov"] is True and nesterov["momentum"] == 0.9
    assert get_optimizer("amsgrad").schema.defaults()["amsgrad"] is True
    assert get_optimizer("momentum").preset_of == "sgd"


def test_per_surface_lrs_cover_the_surfaces():
    names = set(SURFACES) - {"custom"}
    for spec in surface_optimizers():
        assert set(spec.surface_lr) <= names
        assert len(spec.surface_lr) >= len(names) - 3, f"{spec.name}: tune with tools/tune_default_lrs.py"
        for lr in spec.surface_lr.values():
            spec.schema.get("lr").validate(lr)


def test_resolve_and_errors():
    adam = get_optimizer("adam")
    hp = adam.resolve({"lr": "0.01", "beta1": 0.8}, "rosenbrock")
    assert hp["lr"] == 0.01 and hp["beta1"] == 0.8 and hp["beta2"] == 0.999
    assert adam.resolve({}, "rosenbrock")["lr"] == adam.default_lr("rosenbrock")
    with pytest.raises(UnknownNameError, match="optviz list optimizers"):
        get_optimizer("adamm")
    with pytest.raises(UnknownNameError, match="beta3"):
        adam.resolve({"beta3": 0.9})
    with pytest.raises(ValueOutOfRangeError, match="out of range"):
        adam.resolve({"lr": 11})
    with pytest.raises(ValueOutOfRangeError, match="boolean"):
        adam.resolve({"amsgrad": "maybe"})
    with pytest.raises(OptvizError, match=r"[Nn]esterov"):
        sgd = get_optimizer("sgd")
        sgd.build([torch.zeros(2, requires_grad=True)], sgd.resolve({"nesterov": True}))
