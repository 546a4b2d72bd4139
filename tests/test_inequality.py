"""Gini, Theil (between/within) and Palma against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ruimtekit._errors import InputError
from ruimtekit.analysis import inequality as ineq


def test_gini_hand_cases():
    assert ineq.gini([5, 5, 5], [1, 2, 3]) == pytest.approx(0.0)
    # two people, 1 and 3: Lorenz points (0.5, 0.25), (1, 1) → G = 1 - 0.5*0.25 - 0.5*1.25
    assert ineq.gini([1, 3]) == pytest.approx(0.25)
    # weights = replicated people: [1 (×3), 3 (×1)] equals the unweighted 4-person case
    assert ineq.gini([1, 3], [3, 1]) == pytest.approx(ineq.gini([1, 1, 1, 3]))
    # unweighted Gini = mean absolute difference / (2 mean): [1,1,1,3] → (6*2/16)/(2*1.5)
    x = np.array([1, 1, 1, 3.0])
    mad = np.abs(x[:, None] - x[None, :]).mean()
    assert ineq.gini(x) == pytest.approx(mad / (2 * x.mean()))
    # one person has everything among n: G = 1 - 1/n
    assert ineq.gini([0, 0, 0, 7]) == pytest.approx(0.75)


def test_theil_hand_and_decomposition():
    t = ineq.theil([1, 3])
    assert t.total == pytest.approx(0.5 * 0.5 * math.log(0.5) + 0.5 * 1.5 * math.log(1.5))
    x = np.array([1.0, 2.0, 4.0, 8.0, 0.0])
    w = np.array([10, 20, 30, 5, 5.0])
    g = ["a", "a", "b", "b", "b"]
    r = ineq.theil(x, w, g)
    assert r.within + r.between == pytest.approx(r.total)
    # hand: mu, group means, between = Σ s_g (mu_g/mu) ln(mu_g/mu)
    mu = (x * w).sum() / w.sum()
    mua = (1 * 10 + 2 * 20) / 30
    mub = (4 * 30 + 8 * 5) / 40
    between = 30 / 70 * mua / mu * math.log(mua / mu) + 40 / 70 * mub / mu * math.log(mub / mu)
    assert r.between == pytest.approx(between)
    assert ineq.theil([3, 3, 3]).total == pytest.approx(0.0)
    # a person with nothing: 0·ln 0 = 0; all with one person: T = ln n
    assert ineq.theil([0, 0, 0, 5]).total == pytest.approx(math.log(4))


def test_palma_hand_cases():
    # 5 equal-weight zones; top 10% = half of the zone with 10, bottom 40% = zones 1 and 2
    assert ineq.palma([1, 2, 3, 4, 10]) == pytest.approx(10 / 1.5)
    # ranked by income instead: the richest zone has accessibility 1
    assert ineq.palma([1, 2, 3, 4, 10], rank_by=[5, 4, 3, 2, 1]) == pytest.approx(1 / 7)
    # weights split at the cut: 10 people with x=1..10 → top 1 person / bottom 4 people
    x = np.arange(1, 11.0)
    assert ineq.palma(x) == pytest.approx(10 / 2.5)
    assert ineq.palma([2, 2, 2]) == pytest.approx(1.0)
    assert ineq.palma([0, 0, 0, 0, 5]) == math.inf


def test_summary_and_errors():
    s = ineq.summary([1, 3], [1, 1], groups=["a", "b"], measure="jobs")
    assert s.loc[0, "gini"] == pytest.approx(0.25)
    assert s.loc[0, "theil_within"] == pytest.approx(0.0)
    assert s.loc[0, "theil_between_share"] == pytest.approx(1.0)
    with pytest.raises(InputError):
        ineq.gini([1, np.nan])
    with pytest.raises(InputError):
        ineq.gini([1, -2])
    with pytest.raises(InputError):
        ineq.theil([1, 2], [1])
