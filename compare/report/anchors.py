"""Published test accuracies of fully-connected nets on MNIST, and which one a recipe meets."""
from __future__ import annotations

from dataclasses import dataclass

AFFINE_KEYS = ("max_shift", "max_rotation", "max_scale")   # torchnet.augment.Augment's


@dataclass(frozen=True)
class Anchor:
    key: str
    source: str                # authors, year
    venue: str
    network: str               # the net and how it was trained, in the paper's terms
    accuracy: float            # test accuracy, a fraction
    hidden: int                # hidden layers
    distortions: tuple = ()    # of the training images: "affine", "elastic"
    dropout: bool = False
    max_norm: bool = False


SIMARD, SRIVASTAVA = "Simard, Steinkraus & Platt 2003", "Srivastava et al. 2014"
ANCHORS = (
    # Simard et al.'s Table 1 (2-layer MLP, 800 hidden units, cross-entropy); the undistorted
    # 1.6% error is also on LeCun's MNIST page and in Srivastava et al.'s Table 2.
    Anchor("simard-none", SIMARD, "ICDAR", "784-800-10, cross-entropy, no distortions",
           0.984, 1),
    Anchor("simard-affine", SIMARD, "ICDAR", "784-800-10, cross-entropy, affine distortions",
           0.989, 1, ("affine",)),
    Anchor("simard-elastic", SIMARD, "ICDAR", "784-800-10, cross-entropy, elastic distortions",
           0.993, 1, ("elastic",)),
    Anchor("srivastava-dropout", SRIVASTAVA, "JMLR 15, Table 2",
           "784-1024-1024-1024-10 ReLU, dropout", 0.9875, 3, dropout=True),
    Anchor("srivastava-maxnorm", SRIVASTAVA, "JMLR 15, Table 2",
           "784-1024-1024-1024-10 ReLU, dropout + max-norm", 0.9894, 3, dropout=True,
           max_norm=True),
    Anchor("srivastava-8192", SRIVASTAVA, "JMLR 15, Table 2",
           "784-8192-8192-10 ReLU, dropout + max-norm", 0.9905, 2, dropout=True, max_norm=True),
    Anchor("ciresan", "Cireşan, Meier, Gambardella & Schmidhuber 2010",
           "Neural Computation 22(12)",
           "784-2500-2000-1500-1000-500-10, elastic + affine distortions", 0.9965, 5,
           ("affine", "elastic")),
)


def distortions_of(augment: dict) -> tuple:
    """The kinds of distortion an augmentation ({argument: value}) applies, sorted."""
    affine = any(augment.get(k, 0) > 0 for k in AFFINE_KEYS)
    return ("affine",) * affine + ("elastic",) * (augment.get("elastic_alpha", 0) > 0)


def closest(config: dict, augment: dict | None = None) -> Anchor:
    """The published result most like a run (config: a TrainConfig as a dict): the same
    distortions, depth class, dropout and max-norm, then the nearest depth; first wins a tie."""
    hidden, kinds = len(config["sizes"]) - 2, distortions_of(augment or {})

    def likeness(a: Anchor):
        return (a.distortions == kinds, (a.hidden > 1) == (hidden > 1),
                a.dropout == bool(config.get("dropout")),
                a.max_norm == bool(config.get("max_norm")), -abs(a.hidden - hidden))
    return max(ANCHORS, key=likeness)
