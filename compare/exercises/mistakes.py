"""The catalogue of common mistakes, each a small variant of the reference.

Every entry names a mistake (`name`, what the diagnosis says), explains the
fix (`fix`), and says how to make it in the real function (`plant`: pairs of
a regular expression and its replacement in that function's source, which the
tests use to plant each mistake in a copy and check it is named). The checker recognizes a
mistake by computing what the mistaken code returns (the `variants` of each
check module, keyed like this catalogue) and comparing it with the student's
answer to round-off. The training loop's mistakes are recognized by watching
the loop run instead (compare.exercises.loop).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    key: str
    exercise: int
    qualname: str           # the function the plant edits
    name: str               # what the diagnosis calls it
    fix: str
    plant: tuple            # ((regex, replacement), ...) in the function's source text

    @property
    def diagnosis(self) -> str:
        return f"{self.name}: {self.fix}"


def _m(key, exercise, qualname, name, fix, *plant):
    return Mistake(key, exercise, qualname, name, fix, tuple(plant))


MISTAKES = (
    # 1. activation derivatives
    _m("f_prime_at_a", 1, "sigmoid_prime", "f′ taken at a instead of z",
       "a is already f(z), so σ′(z) = a(1 − a) and tanh′(z) = 1 − a²; applying f to a again "
       "gives f′(a)",
       (r"return a \* \(1\.0 - a\)", "return sigmoid(a) * (1.0 - sigmoid(a))")),
    _m("tanh_of_z", 1, "tanh_prime", "tanh′ computed as 1 − z²",
       "the square belongs to a = tanh(z): tanh′(z) = 1 − a²",
       (r"return 1\.0 - a \* a", "return 1.0 - z * z")),
    _m("relu_kink", 1, "relu_prime", "relu′(0) taken as 1",
       "torch's autograd, which the check follows, uses 0 at the kink: [z > 0], not [z ≥ 0]",
       (r"\(z > 0\)", "(z >= 0)")),
    # 2. the output error
    _m("missing_mean", 2, "CrossEntropy.value_and_delta",
       "sum where the mean is needed (a missing 1/N)",
       "C is the batch mean, so δ_L = ∂C/∂z_L carries a factor 1/N",
       (r"delta / n\b(?=[^\n]*$)", "delta")),
    _m("sign_flipped", 2, "CrossEntropy.value_and_delta", "δ_L with its sign flipped",
       "∂C/∂z_L = (softmax(z_L) − onehot(y)) / N: prediction minus target",
       (r"delta / n\b(?=[^\n]*$)", "-delta / n")),
    _m("missing_sigma_prime", 2, "Quadratic.value_and_delta",
       "the quadratic cost's δ_L without ⊙ σ′(z_L)",
       "the output layer is a = σ(z_L), so δ_L = (a − y) ⊙ a(1 − a) / N",
       (r"diff \* a \* \(1\.0 - a\) / n", "diff / n")),
    _m("unstable_softmax", 2, "CrossEntropy.value_and_delta",
       "softmax not numerically stable",
       "exp overflows for logits near 1000 and gives NaN; subtract each row's largest logit "
       "first, as log_softmax does",
       (r"log_softmax\(z\)", "np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))")),
    # 3. backprop
    _m("missing_f_prime", 3, "Network.backprop", "missing f′",
       "BP2 is δ_l = (δ_{l+1} W_{l+1}) ⊙ f′(z_l); the ⊙ f′(z_l) was left out",
       (r"\s*\*\s*self\.f_prime\([^()]*\)", "")),
    _m("missing_transpose", 3, "Network.backprop", "a missing transpose in BP4",
       "∂C/∂W_l = δ_lᵀ a_{l−1} has W_l's shape (n_l, n_{l−1}); a_{l−1}ᵀ δ_l is its transpose",
       (r"delta\.T @ ([\w.\[\]-]+)", r"\1.T @ delta")),
    _m("extra_mean", 3, "Network.backprop", "an extra 1/N in BP3/BP4",
       "δ_L from the cost already carries the batch mean's 1/N, so BP3 and BP4 sum over the "
       "samples instead of averaging",
       (r"delta\.sum\(axis=0\)", "delta.mean(axis=0)")),
    _m("dropout_skipped", 3, "Network.backprop", "dropout mask not applied in BP2",
       "the units the forward pass dropped get no gradient: apply dropout_backward(…, mask) "
       "to δ_{l+1} W_{l+1} before the ⊙ f′",
       (r"grad_a = dropout_backward\(.*\)", "pass")),
    # 4. dropout
    _m("mask_not_applied", 4, "dropout_backward", "dropout mask not applied",
       "the forward pass multiplied by the mask, so the backward step multiplies by it too",
       (r"return grad \* mask", "return grad")),
    _m("mask_not_rescaled", 4, "dropout_backward", "dropout mask not rescaled",
       "the mask holds 1/(1 − p) for kept units, not 1: multiply by the mask itself, not by "
       "(mask > 0)",
       (r"return grad \* mask", "return grad * (mask > 0)")),
    # 5. batch norm
    _m("bn_constant_stats", 5, "BatchNorm.backward",
       "batch mean and variance treated as constants",
       "in training mode they depend on every row of z, which adds the terms −Σ g and "
       "−x̂ Σ(g ⊙ x̂) to N g",
       (r"if not training:", "if True:")),
    _m("bn_constant_var", 5, "BatchNorm.backward", "the batch variance treated as a constant",
       "the term −x̂ Σ_samples(g ⊙ x̂), from the variance's dependence on z, is missing",
       (r" - xhat \* \(dxhat \* xhat\)\.sum\(axis=0\)", "")),
    _m("bn_missing_gamma", 5, "BatchNorm.backward", "γ left out of ∂C/∂x̂",
       "y = γ x̂ + β, so ∂C/∂x̂ = ∂C/∂y ⊙ γ",
       (r"dxhat = grad_out \* self\.gamma", "dxhat = grad_out")),
    # 6. SGD
    _m("nesterov_no_lookahead", 6, "SGD._update", "Nesterov without the look-ahead",
       "with nesterov=True the step is g + μb (the gradient plus a look-ahead along the "
       "buffer), not b",
       (r"if self\.nesterov:", "if False:")),
    _m("decay_after_momentum", 6, "SGD._update", "weight decay added after momentum",
       "torch adds λθ to the gradient first, so the buffer accumulates g + λθ",
       (r"g = self\._decayed\(p, g, direction\)", "pass"),
       (r"np\.multiply\(g, self\.lr, out=tmp\)",
        "np.multiply(g + self.weight_decay * p, self.lr, out=tmp)")),
    _m("dampening_first_step", 6, "SGD._update", "dampening applied at the first step",
       "torch starts the buffer at b = g; (1 − τ) only scales later gradients",
       (r"b = self\.buffers\[i\] = g\.copy\(\)", "b = self.buffers[i] = (1.0 - self.dampening) * g")),
    _m("not_in_place", 6, "SGD._update", "parameters not updated in place",
       "the optimizer holds the arrays themselves: write p -= …; p = p − … only rebinds a "
       "local name and the network never changes",
       (r"p -= tmp", "p = p - tmp")),
    # 7. Adam
    _m("no_bias_correction", 7, "Adam._update", "Adam without bias correction",
       "m and v start at 0, so the first steps divide by 1 − β₁ᵗ and 1 − β₂ᵗ: "
       "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)",
       (r"bias1 = 1\.0 - beta1 \*\* self\.t", "bias1 = 1.0"),
       (r"bias2 = 1\.0 - beta2 \*\* self\.t", "bias2 = 1.0")),
    _m("eps_wrong_side", 7, "Adam._update", "ε on the wrong side of the root",
       "torch.optim.Adam divides by √v̂ + ε; with eps_inside_sqrt (the homework's Adam) it is "
       "√(v̂ + ε)",
       (r"if self\.eps_inside_sqrt:", "if not self.eps_inside_sqrt:")),
    # 8. StepLR
    _m("steplr_early", 8, "StepLR.step", "StepLR decays one epoch early",
       "after e calls lr = lr₀ γ^⌊e/step_size⌋: the first decay comes after step_size calls, "
       "not at the first",
       (r"if self\.epoch % self\.step_size == 0:", "if (self.epoch - 1) % self.step_size == 0:")),
    _m("steplr_not_on_optimizer", 8, "StepLR.step", "the optimizer's lr never changes",
       "the rate the optimizer uses is self.optimizer.lr: multiply that one by γ",
       (r"self\.optimizer\.lr \*= self\.gamma", "self.lr = self.optimizer.lr * self.gamma")),
    # 9. Problem 1
    _m("heavy_ball_average", 9, "homework_gd_with_mom", "momentum as an average",
       "the homework's heavy ball is v ← γv + ∇f(θ), not γv + (1 − γ)∇f(θ)",
       (r"v = gamma \* v \+ \(np\.array\(grad\(params\)\)\)",
        "v = gamma * v + (1 - gamma) * (np.array(grad(params)))")),
    _m("adams_no_bias_correction", 9, "homework_adams", "Adam without bias correction",
       "v̂ = v/(1 − γ^{j+1}) and ŝ = s/(1 − β^{j+1}) undo the zero start of the averages",
       (r"v_hat = v / \(1 - gamma\*\*\(j \+ 1\)\)", "v_hat = v"),
       (r"grad_sq_hat = grad_sq / \(1 - beta\*\*\(j \+ 1\)\)", "grad_sq_hat = grad_sq")),
    _m("adams_eps_outside", 9, "homework_adams", "ε on the wrong side of the root",
       "the homework's Adam divides by √(ŝ + ε), torch's by √ŝ + ε",
       (r"np\.sqrt\(grad_sq_hat \+ epsilon\)", "(np.sqrt(grad_sq_hat) + epsilon)")),
    # 10. the training loop (recognized by instrumentation, see loop.py)
    _m("step_once_per_epoch", 10, "train", "optimizer stepped once per epoch",
       "optimizer.step() belongs inside the batch loop, once per batch",
       (r"\n            optimizer\.step\(\)\n", "\n"),
       (r"\n        network\.eval\(\)\n", "\n        optimizer.step()\n        network.eval()\n")),
    _m("zero_grad_missing", 10, "train", "gradients never zeroed",
       "loss.backward() adds into .grad, so each batch's gradient piles onto the last ones: "
       "call optimizer.zero_grad() before every backward",
       (r"optimizer\.zero_grad\(\)", "pass")),
    _m("eval_never_set", 10, "train", "eval mode never set",
       "call network.eval() before testing: dropout and batch norm behave differently there",
       (r"network\.eval\(\)", "pass")),
    _m("train_not_reset", 10, "train", "training mode not set again after evaluation",
       "call network.train() at the start of every epoch, since evaluation left the network "
       "in eval mode",
       (r"network\.train\(\)", "pass")),
)

BY_KEY = {m.key: m for m in MISTAKES}


def of_exercise(number: int) -> tuple[Mistake, ...]:
    return tuple(m for m in MISTAKES if m.exercise == number)


def plant(source: str, mistake: Mistake) -> str:
    """The function text `source` with the mistake made in it (every pattern must match)."""
    for pattern, replacement in mistake.plant:
        source, count = re.subn(pattern, replacement, source, flags=re.M)
        if not count:
            raise ValueError(f"{mistake.key}: {pattern!r} no longer matches {mistake.qualname}; "
                             "update the catalogue")
    return source
