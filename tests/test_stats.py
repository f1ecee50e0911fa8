"""compare.report.stats and compare.report.anchors against numbers worked out by hand."""
from __future__ import annotations

import math

import pytest

from compare.report import anchors, stats
from compare.report.stats import Spread


def test_mean_and_sample_sd():
    # 1, 2, 3: mean 2; squared deviations 1 + 0 + 1 = 2, over n - 1 = 2: sd 1
    assert stats.spread([1.0, 2.0, 3.0]) == Spread(3, 2.0, 1.0)
    # 2, 4, 6: mean 4; (4 + 0 + 4) / 2 = 4: sd 2
    assert stats.spread([2, 4, 6]) == Spread(3, 4.0, 2.0)
    # 0.9, 0.92, 0.94: mean 0.92; (0.0004 + 0 + 0.0004) / 2: sd 0.02
    s = stats.spread([0.9, 0.92, 0.94])
    assert s.n == 3 and s.mean == pytest.approx(0.92) and s.sd == pytest.approx(0.02)
    # five values: mean 0.9435, squared deviations sum to 5.8e-6, over 4: sd sqrt(1.45e-6)
    s = stats.spread([0.9432, 0.9442, 0.9422, 0.9452, 0.9427])
    assert s.mean == pytest.approx(0.9435) and s.sd == pytest.approx(math.sqrt(1.45e-6))


def test_one_value_has_no_sd_and_none_is_ignored():
    assert stats.spread([0.95]) == Spread(1, 0.95, None)
    assert stats.spread([0.95, None]) == Spread(1, 0.95, None)
    assert stats.spread([]) is None and stats.spread([None]) is None


def test_tie_rule():
    a, b, c = Spread(3, 2.0, 1.0), Spread(3, 4.0, 2.0), Spread(3, 6.0, 1.0)
    # a, b: 2·sqrt(1/3 + 4/3) = 2·sqrt(5/3) = 2.582; the means differ by 2 < 2.582: a tie
    assert stats.noise(a, b) == pytest.approx(2 * math.sqrt(5 / 3))
    assert stats.order(a, b) == "tie" and stats.order(b, a) == "tie"
    # a, c: 2·sqrt(2/3) = 1.633; the means differ by 4: not a tie
    assert stats.noise(a, c) == pytest.approx(1.6329932)
    assert stats.order(a, c) == "lower"
    # just inside and just outside the limit (sd 0.001, n 3 each: limit 0.0016330)
    x = Spread(3, 0.978, 0.001)
    assert stats.order(x, Spread(3, 0.9764, 0.001)) == "tie"     # 0.0016 < 0.001633
    assert stats.order(x, Spread(3, 0.9763, 0.001)) == "higher"    # 0.0017
    # unequal n: 2·sqrt(1.44e-6/5 + 1e-6/3) = 2·sqrt(6.2133e-7) = 0.0015765
    assert stats.noise(Spread(5, 0.9, 0.0012), Spread(3, 0.9, 0.001)) == pytest.approx(
        0.0015765, abs=1e-7)


def test_tie_needs_two_seeds_each_and_equal_means_tie():
    assert stats.order(Spread(1, 0.97, None), Spread(3, 0.97, 0.001)) == "close"
    assert stats.noise(Spread(3, 0.97, 0.001), None) is None
    assert stats.order(Spread(2, 0.5, 0.0), Spread(2, 0.5, 0.0)) == "tie"  # limit 0, same mean
    assert stats.order(Spread(2, 0.5, 0.0), Spread(2, 0.6, 0.0)) == "lower"


def test_z_score():
    s = Spread(3, 2.0, 1.0)
    assert stats.z_score(5.0, s) == 3.0 and stats.z_score(1.5, s) == -0.5
    # the homework's 94.45% against the five values above: (0.9445 - 0.9435) / 0.0012042
    five = stats.spread([0.9432, 0.9442, 0.9422, 0.9452, 0.9427])
    assert stats.z_score(0.9445, five) == pytest.approx(0.8304548, abs=1e-6)
    assert stats.z_score(0.9445, Spread(2, 0.94, 0.001)) is None          # fewer than 3 seeds
    assert stats.z_score(0.9445, Spread(3, 0.94, 0.001)) == pytest.approx(4.5)
    assert stats.z_score(None, s) is None and stats.z_score(1.0, None) is None
    assert stats.z_score(0.2, Spread(5, 0.1135, 0.0)) is None              # sd 0: undefined


def _config(sizes, dropout=0.0):
    return {"sizes": list(sizes), "dropout": dropout}


def test_each_recipe_meets_the_closest_published_result():
    from compare import table

    def closest(config, augment=()):
        return anchors.closest(config.to_dict(), dict(augment)).key

    assert closest(table.RECIPE) == "simard-none"
    assert closest(table.RECIPE_ELASTIC, table.ELASTIC) == "simard-elastic"
    assert closest(table.BEST) == "srivastava-dropout"
    assert closest(table.BEST_AUGMENTED, table.AUGMENT) == "ciresan"   # elastic + affine, deep
    # elastic and affine together, several hidden layers: Cireşan et al.
    assert anchors.closest(_config((784, 500, 500, 10)),
                           {"elastic_alpha": 34.0, "max_shift": 2.0}).key == "ciresan"
    # zero-valued arguments are no distortion
    assert anchors.distortions_of({"elastic_alpha": 34.0, "max_shift": 0.0}) == ("elastic",)
    assert anchors.distortions_of({}) == ()


def test_the_published_numbers():
    published = {a.key: a.accuracy for a in anchors.ANCHORS}
    assert published == {"simard-none": 0.984, "simard-affine": 0.989, "simard-elastic": 0.993,
                         "srivastava-dropout": 0.9875, "srivastava-maxnorm": 0.9894,
                         "srivastava-8192": 0.9905, "ciresan": 0.9965}


def test_order_follows_the_tie_rule_with_seeds():
    # Problem 2 (c): Adam 96.83 ± 0.18% against SGD 96.83 ± 0.11%, 5 seeds each: a tie
    assert stats.order(Spread(5, 0.9683, 0.0018), Spread(5, 0.9683, 0.0011)) == "tie"
    # Problem 3 (c): 99.45 ± 0.11% against 99.32 ± 0.07%, 3 seeds each: the limit is
    # 2·sqrt(0.0011²/3 + 0.0007²/3) = 0.00151 > 0.0013: a tie
    assert stats.order(Spread(3, 0.9945, 0.0011), Spread(3, 0.9932, 0.0007)) == "tie"
    # 98.91 ± 0.09% against 98.48 ± 0.06%: limit 0.00125 < 0.0043: higher, and back
    a, b = Spread(3, 0.9891, 0.0009), Spread(3, 0.9848, 0.0006)
    assert stats.order(a, b) == "higher" and stats.order(b, a) == "lower"


def test_order_with_one_seed_needs_a_margin():
    one, other = Spread(1, 0.9671, None), Spread(1, 0.9662, None)
    assert stats.order(one, other) == "close"                      # 0.09 points apart
    assert stats.order(one, Spread(5, 0.9683, 0.0011)) == "close"  # one side has one seed
    assert stats.order(Spread(1, 0.9671, None), Spread(1, 0.9532, None)) == "higher"
    assert stats.order(Spread(1, 0.20, None), Spread(1, 0.9671, None)) == "lower"
    # exactly the margin apart is an order; just inside it is not
    assert stats.order(Spread(1, 0.5 + stats.ONE_SEED_MARGIN, None), Spread(1, 0.5, None)) \
        == "higher"
    assert stats.order(Spread(1, 0.5 + 0.99 * stats.ONE_SEED_MARGIN, None),
                       Spread(1, 0.5, None)) == "close"


def test_order_against_a_published_number():
    # our 98.48 ± 0.06% over 3 seeds against 98.4%: limit 2·0.0006/√3 = 0.00069 < 0.0008
    assert stats.order(Spread(3, 0.9848, 0.0006), 0.984) == "higher"
    # 99.32 ± 0.07% against 99.3%: limit 0.00081 > 0.0002: a tie
    assert stats.order(Spread(3, 0.9932, 0.0007), 0.993) == "tie"
    assert stats.order(Spread(1, 0.9932, None), 0.993) == "close"
    assert stats.seeded(Spread(3, 0.9, 0.01), 0.9) and not stats.seeded(Spread(1, 0.9, None))
