"""Diagnosis as a search (``autograder/diagnosis.py``) and hw1's spaces of deviations
(``assignments/hw1/hidden/deviations.py``): the engine on a small space of its own, hw1's
simulators against the reference they stand for, and the corpus of samples: how often the
feedback names what is really wrong, never a wrong name, and what the search costs per failed
check (printed for the record)."""

from __future__ import annotations

import statistics
import time
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
from course import COURSE
from test_samples import graded, named_mistakes

from autograder import assignment
from autograder.checks import import_file, suite_module
from autograder.diagnosis import Case, Dimension, Option, Space, departure, diagnose
from autograder.mistakes import load_catalogue
from autograder.reference import Reference

HW1 = assignment.load("hw1", COURSE)
CHECKS = HW1.hidden_dir / "test_optimizer.py"
S = suite_module(str(CHECKS), "deviations.py")
V = suite_module(str(CHECKS), "variants.py")


# --------------------------------------------------------------------------------------------
# The engine on a space of its own: x ← x + sign·rate·g + offset


def _walk(inputs: dict, choice: Mapping[str, str], constants: Mapping[str, np.ndarray]) -> Iterator:
    rate = inputs["rate"] * (2.0 if choice["rate"] == "doubled" else 1.0)
    sign = -1.0 if choice["sign"] == "minus" else 1.0
    value = np.asarray(constants.get("offset", [1.0]), dtype=np.float64)[:, None]
    offset = {"constant": value, "switched": 1e-3 * (value > 1e-5)}.get(choice["offset"], 0.0 * value)
    x = np.zeros((value.shape[0], inputs["g"].shape[1]))
    for g in inputs["g"]:
        x = x + sign * rate * g + offset
        yield x


def _space(**kwargs: Any) -> Space:
    return Space((
        Dimension("rate", (Option("as_given"), Option("doubled", "the rate is doubled", "doubled"))),
        Dimension("sign", (Option("plus"), Option("minus", "the step has the wrong sign", "minus"))),
        Dimension("offset", (
            Option("none"),
            Option("constant", "an offset of {value} is added", "offset", infer=(-9.0, -1.0)),
        )),
    ), _walk, **kwargs)


def _case(student: Mapping[str, str], offset: float = 0.0, noise: float = 0.0, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    inputs = {"g": rng.normal(size=(8, 5)), "rate": 0.3}
    plain = {"rate": "as_given", "sign": "plus", "offset": "none"}
    reference = np.stack([x[0] for x in _walk(inputs, plain, {})])
    actual = np.stack([x[0] for x in _walk(inputs, {**plain, **student}, {"offset": np.array([offset])})])
    return Case(inputs, actual * (1 + noise), reference)


def test_names_the_smallest_combination_that_reproduces_every_case() -> None:
    student = {"rate": "doubled", "sign": "minus"}
    found = diagnose(_space(), [_case(student, seed=1), _case(student, seed=2)])
    assert found is not None
    assert {(p.dimension, p.option) for p in found.parts} == {("rate", "doubled"), ("sign", "minus")}
    assert found.mistakes == ["doubled", "minus"]
    assert found.misfit <= 1e-8 < found.reference_misfit


def test_infers_a_constant_and_says_it() -> None:
    found = diagnose(_space(), [_case({"offset": "constant"}, offset=3e-4, seed=s) for s in (1, 2)])
    assert found is not None and [p.option for p in found.parts] == ["constant"]
    assert found.parts[0].value == pytest.approx(3e-4, rel=1e-9)
    assert found.sentence == "an offset of 0.0003 is added"


def test_a_constant_must_be_the_same_on_every_case() -> None:
    cases = [_case({"offset": "constant"}, offset=3e-4, seed=1),
             _case({"offset": "constant"}, offset=5e-4, seed=2)]
    assert diagnose(_space(), cases) is None


def test_a_near_miss_gets_no_name() -> None:
    """The old matcher's failure: close to a variant within a loose tolerance is not the
    variant. A relative difference of 1e-6 from 'doubled' is too much."""
    assert diagnose(_space(), [_case({"rate": "doubled"}, noise=1e-6)]) is None
    assert diagnose(_space(), [_case({"rate": "doubled"}, noise=1e-14)]) is not None


def test_outside_the_space_names_nothing() -> None:
    case = _case({})
    scaled = Case(case.inputs, case.reference * 1.5, case.reference)
    assert diagnose(_space(), [scaled]) is None


def test_a_simulator_that_misses_the_reference_names_nothing() -> None:
    case = _case({"rate": "doubled"})
    wrong_reference = Case(case.inputs, case.actual, case.reference * (1 + 1e-6))
    assert diagnose(_space(), [case]) is not None
    assert diagnose(_space(), [wrong_reference]) is None


def test_the_reference_itself_gets_no_name() -> None:
    assert diagnose(_space(), [_case({})]) is None


def test_equally_small_explanations_name_only_what_they_share() -> None:
    """Doubling the rate and doubling it again under another name cannot be told apart."""
    space = _space()
    twin = Dimension("twin", (Option("off"), Option("doubled", "the rate is doubled (twin)", "twin")))

    def simulate(inputs: dict, choice: Mapping[str, str], constants: Mapping[str, np.ndarray]) -> Iterator:
        both = {**choice, "rate": "doubled" if "doubled" in (choice["rate"], choice["twin"]) else "as_given"}
        return _walk(inputs, both, constants)

    ambiguous = Space((*space.dimensions, twin), simulate)
    assert diagnose(ambiguous, [_case({"rate": "doubled"})]) is None
    found = diagnose(ambiguous, [_case({"rate": "doubled", "sign": "minus"})])
    assert found is not None and [p.option for p in found.parts] == ["minus"]


def test_a_constant_the_runs_do_not_pin_down_is_not_named() -> None:
    """An offset of 1e-3 switched on by any constant above 1e-5: every such value fits, so the
    constant is not named (a fixed option with the same effect is)."""
    switched = Option("switched", "a switch at {value}", "switched", infer=(-9.0, -1.0))
    fixed = Option("switched", "a switch", "switched")
    case = _case({})
    student = Case(case.inputs, case.reference + 1e-3 * np.arange(1, 9)[:, None], case.reference)
    for option, named in ((switched, False), (fixed, True)):
        space = _space()
        offset = Dimension("offset", (Option("none"), option))
        found = diagnose(Space((*space.dimensions[:2], offset), _walk), [student])
        assert (found is not None) is named


def test_departure_says_where_the_values_leave_the_reference() -> None:
    case = _case({})
    actual = case.reference.copy()
    actual[3, 2] += 0.01
    found = departure(Case(case.inputs, actual, case.reference))
    assert found is not None and (found.step, found.index) == (3, 2)
    assert found.actual - found.expected == pytest.approx(0.01)
    assert departure(case) is None


# --------------------------------------------------------------------------------------------
# hw1's spaces


def test_every_part_has_a_catalogue_entry_of_its_task() -> None:
    catalogue = load_catalogue(HW1.mistakes)
    spaces = [("optimizer", s) for s in S.OPTIMIZER_SPACES.values()] + [("deep_net", S.NETWORK_SPACE)]
    for task, space in spaces:
        for dimension in space.dimensions:
            assert dimension.options[0].mistake is None, dimension.name
            for option in dimension.options[1:]:
                assert option.mistake in catalogue, option.mistake
                assert catalogue[option.mistake].task == task, option.mistake


@pytest.mark.parametrize("cls", V.OPTIMIZERS)
def test_optimizer_simulators_reproduce_the_reference(cls: str) -> None:
    """With no deviation chosen, the simulation is the reference (with a parameter that has no
    gradient in some steps, two groups, and custom settings), so a diagnosis can rest on it."""
    reference = Reference(HW1)
    rng = np.random.default_rng(11)
    shapes = [(3, 2), (4,), ()]
    params = [rng.normal(size=s) if s else float(rng.normal()) for s in shapes]
    grads = [[rng.normal(size=s) * 10.0 ** rng.uniform(-6, 1, size=s) if s else float(rng.normal())
              for s in shapes] for _ in range(9)]
    for step in range(3):
        grads[step][1] = None
    lr = V.DEFAULTS[cls]["lr"]
    groups = [{"params": [0, 1], "lr": lr * 3}, {"params": [2], "lr": lr / 2}]
    for kwargs, group in ((None, None), (None, groups), ({"lr": 0.05}, None)):
        want = V.run_reference_optimizer(reference, cls, "run_steps", params=params, grads=grads,
                                         kwargs=kwargs, groups=group)
        theirs = [np.asarray(t, dtype=np.float64) for t in want["trajectory"]]
        case = S.optimizer_case(cls, params, grads, theirs, theirs, kwargs, group)
        space = S.OPTIMIZER_SPACES[cls]
        simulated = np.stack([np.ravel(x) for x in space.simulate(case.inputs, space.reference_choice(), {})])
        assert np.allclose(simulated, case.reference, rtol=1e-12, atol=1e-14)


def test_network_simulator_reproduces_the_reference() -> None:
    reference = Reference(HW1)
    rng = np.random.default_rng(3)
    for sizes in ((4, 5, 7, 4), (6, 6, 6, 6)):
        state = V.reference_state(reference, sizes, seed=5)
        x = rng.normal(size=(20, sizes[0])).astype(np.float32)
        want = V.run_reference_probe("forward", {"MyModelNN": reference.deep_net.MyModelNN},
                                     sizes=list(sizes), x=x, state=state, dtype="float64")
        case = S.network_case(state, x, np.asarray(want["values"]), np.asarray(want["values"]))
        simulated = next(iter(S.NETWORK_SPACE.simulate(case.inputs, S.NETWORK_SPACE.reference_choice(), {})))
        assert np.allclose(simulated, case.reference[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", V.OPTIMIZERS)
def test_torch_own_optimizer_gets_no_name(cls: str) -> None:
    """A correct optimizer written differently (torch's own, other rounding) is not diagnosed."""
    reference = Reference(HW1)
    rng = np.random.default_rng(2)
    params = [rng.normal(size=(4,)), rng.normal(size=(2, 2))]
    grads = [[rng.normal(size=(4,)), rng.normal(size=(2, 2))] for _ in range(10)]
    want = V.run_reference_optimizer(reference, cls, "run_steps", params=params, grads=grads)
    theirs = [np.asarray(t, dtype=np.float64) for t in want["trajectory"]]
    for run in V.torch_twin_runs(cls, "run_steps", params=params, grads=grads):
        mine = [np.asarray(t, dtype=np.float64) for t in run["trajectory"]]
        assert S.diagnose_optimizer(cls, [S.optimizer_case(cls, params, grads, mine, theirs)]) is None


def test_eps_hat_with_per_parameter_counts_is_not_a_shared_count() -> None:
    """The wrong name the issue reports: an Adam in the eps-hat form that counts steps per
    parameter, on a run where one parameter has no gradient in the first steps."""
    reference = Reference(HW1)
    module = import_file(HW1.samples_dir / "adam_eps_hat" / "optimizer.py", "_sample_adam_eps_hat")
    rng = np.random.default_rng(7)
    params = [rng.normal(size=(4,)), rng.normal(size=(2, 2))]
    grads = [[rng.normal(size=(4,)) * 1e-5, rng.normal(size=(2, 2)) * 1e-6] for _ in range(12)]
    for step in range(5):
        grads[step][1] = None
    got = V.run_reference_probe("run_steps", {"Adam": module.Adam}, cls="Adam", params=params, grads=grads)
    want = V.run_reference_optimizer(reference, "Adam", "run_steps", params=params, grads=grads)
    mine, theirs = ([np.asarray(t, dtype=np.float64) for t in r["trajectory"]] for r in (got, want))
    found = S.diagnose_optimizer("Adam", [S.optimizer_case("Adam", params, grads, mine, theirs)])
    assert found is not None and found.mistakes == ["adam_eps_hat"]
    simulated = S.diagnose_optimizer("Adam", [S.simulated_case("Adam", params, grads, mine)])
    assert simulated is not None and "adam_step_count_shared" not in simulated.mistakes


# --------------------------------------------------------------------------------------------
# The corpus: every sample of hw1


def _truth(name: str) -> set[str] | None:
    """What is really wrong in a sample: its ``bugs`` (ids, or "uncatalogued: …"), else the
    mistakes it must be named for (each older sample has exactly those bugs)."""
    want = tomllib.loads((HW1.samples_dir / name / "expected.toml").read_text())
    if "bugs" in want:
        return set(want["bugs"])
    return set(want["outcome"].get("mistakes", []))


def _replayed_costs(reference: Reference) -> list[float]:
    """Seconds the search takes per failed update-rule or forward comparison, replaying each
    sample's own code in this process (it is the kit's code) on inputs made the way the checks
    make them."""
    checks = suite_module(str(CHECKS), "test_optimizer.py")
    costs = []
    rng = np.random.default_rng(20241)
    params = checks._params(rng, checks.SHAPES)
    grads = checks._grads(rng, checks.SHAPES, checks.STEPS)
    for folder in sorted(p for p in HW1.samples_dir.iterdir() if (p / "optimizer.py").is_file()):
        try:
            module = import_file(folder / "optimizer.py", f"_corpus_{folder.name}_optimizer")
        except Exception:  # noqa: BLE001 - a sample that does not load has no run to diagnose
            continue
        for cls in V.OPTIMIZERS:
            cases = []
            for kwargs in (None, checks.CUSTOM[cls]):
                try:
                    got = V.run_reference_probe("run_steps", {cls: getattr(module, cls)}, cls=cls,
                                                params=params, grads=grads, kwargs=kwargs)
                except Exception:  # noqa: BLE001 - a class that does not run
                    break
                want = V.run_reference_optimizer(reference, cls, "run_steps", params=params,
                                                 grads=grads, kwargs=kwargs)
                mine, theirs = ([np.asarray(t, dtype=np.float64) for t in r["trajectory"]]
                                for r in (got, want))
                cases.append(S.optimizer_case(cls, params, grads, mine, theirs, kwargs))
            if not cases or all(departure(c) is None for c in cases):
                continue
            started = time.perf_counter()
            S.diagnose_optimizer(cls, cases)
            costs.append(time.perf_counter() - started)
    for folder in sorted(p for p in HW1.samples_dir.iterdir() if (p / "deep_net.py").is_file()):
        try:
            network = import_file(folder / "deep_net.py", f"_corpus_{folder.name}_deep_net").MyModelNN
        except Exception:  # noqa: BLE001
            continue
        for sizes in ((4, 5, 7, 4), (6, 6, 6, 6)):
            state = V.reference_state(reference, sizes, seed=9)
            x = rng.normal(size=(200, sizes[0])).astype(np.float32)
            args = {"sizes": list(sizes), "x": x, "state": state, "dtype": "float64"}
            try:
                got = np.asarray(V.run_reference_probe("forward", {"MyModelNN": network}, **args)["values"])
            except Exception:  # noqa: BLE001
                continue
            want = np.asarray(V.run_reference_probe(
                "forward", {"MyModelNN": reference.deep_net.MyModelNN}, **args)["values"])
            if got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-6):
                continue
            started = time.perf_counter()
            S.diagnose_network([S.network_case(state, x, got, want)])
            costs.append(time.perf_counter() - started)
    return costs


def test_corpus_named_rate_wrong_names_and_cost(capsys: pytest.CaptureFixture) -> None:
    results = graded(HW1)
    catalogue = set(load_catalogue(HW1.mistakes))
    wrong: list[str] = []
    nameable = named_some = named_all = unnamed_by_design = 0
    for name, result in sorted(results.items()):
        truth = _truth(name)
        named = named_mistakes(result)
        wrong += [f"{name}: {m}" for m in sorted(named - (truth or set()))]
        catalogued = (truth or set()) & catalogue
        if catalogued:
            nameable += 1
            named_some += bool(named & catalogued)
            named_all += catalogued <= named
        elif truth:
            unnamed_by_design += 1
    costs = _replayed_costs(Reference(HW1))
    with capsys.disabled():
        print(f"\nhw1 corpus: {len(results)} samples, {nameable} with catalogued bugs: "
              f"{named_some}/{nameable} get at least one right name, {named_all}/{nameable} every "
              f"one; {unnamed_by_design} with bugs outside the catalogue; wrong names: "
              f"{len(wrong)} {wrong}")
        print(f"diagnosis cost per failed check (replayed, {len(costs)} failed comparisons): "
              f"median {1000 * statistics.median(costs):.1f} ms, mean "
              f"{1000 * statistics.mean(costs):.1f} ms, max {1000 * max(costs):.1f} ms")
    assert not wrong
    assert named_some == nameable
    assert costs and max(costs) < 2.0
