"""The exercises in order: the functions a student writes, by qualified name, and their tasks;
the copy, its README and the checks follow this table."""
from __future__ import annotations

from dataclasses import dataclass

AUTOGRAD_RTOL = 1e-10   # compare gradcheck's bound on backprop vs autograd: same sums, reordered
LOCKSTEP_BOUND = 1e-9   # compare lockstep's bound on weights after 1,000 float64 steps

PROBLEM1_FILE = "problem1_optimizers.py"
LOOP_FILE = "training_loop.py"
MARKER = ".exercises.json"      # written into every generated copy


@dataclass(frozen=True)
class Target:
    qualname: str           # "Network.backprop", "sigmoid_prime"
    source: str             # "scratchnet" | "problem1" (compare/) | "loop" (compare/exercises/)
    module: str             # the file it lives in today, relative to its package, searched first
    task: str               # the equation to implement, with shapes (goes into the copy)


@dataclass(frozen=True)
class Exercise:
    number: int
    key: str                # names its check (compare.exercises.checks)
    title: str
    targets: tuple          # of Target
    teaches: str            # why it is worth writing

    @property
    def in_scratchnet(self) -> bool:
        return all(t.source == "scratchnet" for t in self.targets)


def _t(qualname, source, module, *lines):
    return Target(qualname, source, module, "\n".join(lines))


EXERCISES = (
    Exercise(1, "activations", "activation derivatives f′", (
        _t("sigmoid_prime", "scratchnet", "activations.py",
           "σ′(z) = σ(z)(1 − σ(z)). The forward pass already has a = σ(z): use it.",
           "z, a: (N, n) -> f′: (N, n), z's dtype."),
        _t("tanh_prime", "scratchnet", "activations.py",
           "tanh′(z) = 1 − tanh²(z), with a = tanh(z) given.",
           "z, a: (N, n) -> f′: (N, n), z's dtype."),
        _t("relu_prime", "scratchnet", "activations.py",
           "relu′(z) = 1 where z > 0, else 0 (0 at the kink z = 0, as torch's autograd).",
           "z, a: (N, n) -> f′: (N, n), floats of z's dtype (not booleans)."),
    ), "f′ is the factor BP2 multiplies by in every layer; taking it from a = f(z), which "
       "the forward pass already has, is what PyTorch's own backward functions do."),
    Exercise(2, "costs", "the output error δ_L (BP1)", (
        _t("CrossEntropy.value_and_delta", "scratchnet", "costs.py",
           "Return (C, δ_L) for softmax + negative log-likelihood, the batch mean:",
           "  C = −(1/N) Σ_i log softmax(z_i)[y_i]",
           "  δ_L = ∂C/∂z_L = (softmax(z_L) − onehot(y)) / N",
           "Stable for any finite z: build on log_softmax above, never exp of a raw logit.",
           "z: (N, C) logits, y: (N,) integer labels -> (float, (N, C))."),
        _t("Quadratic.value_and_delta", "scratchnet", "costs.py",
           "Return (C, δ_L) for C = (1/N) Σ_i ½‖σ(z_i) − onehot(y_i)‖²:",
           "  δ_L = (a − onehot(y)) ⊙ σ′(z_L) / N,  a = σ(z_L)",
           "z: (N, C), y: (N,) -> (float, (N, C))."),
    ), "Where the batch mean's 1/N enters backprop, why softmax needs its shift, and why the "
       "quadratic cost learns slowly when its output saturates."),
    Exercise(3, "backprop", "backpropagation (BP1–BP4)", (
        _t("Network.backprop", "scratchnet", "network.py",
           "Return (C, grads): grads[k] = ∂C/∂p for p = self.parameters()[k], that is",
           "[∂W_1, ∂b_1, ..., ∂W_L, ∂b_L, ∂γ_1, ∂β_1, ...], each of p's shape.",
           "Start from the forward pass above: it gives z_L and what every layer keeps for",
           "the way back.",
           "  BP1  δ_L = ∂C/∂z_L from self.cost.value_and_delta(z_L, y)       (N, n_L)",
           "  BP2  δ_l = (δ_{l+1} W_{l+1}) ⊙ f′(z_l), with self.f_prime          (N, n_l)",
           "       dropout: dropout_backward(…, mask) before the ⊙ f′;",
           "       batch norm: self.norms[l].backward(…) after it (gives ∂γ_l, ∂β_l too)",
           "  BP3  ∂C/∂b_l = Σ_samples δ_l                                      (n_l,)",
           "  BP4  ∂C/∂W_l = δ_lᵀ a_{l−1}                                       (n_l, n_{l−1})"),
    ), "The four equations of backpropagation as matrix products over a batch: where each "
       "transpose goes, and what loss.backward() does for you in PyTorch."),
    Exercise(4, "dropout", "dropout's backward step", (
        _t("dropout_backward", "scratchnet", "layers.py",
           "Inverted dropout's forward is a ⊙ mask; mask holds 0 for a dropped unit and",
           "1/(1 − p) for a kept one. Return ∂C/∂a from grad = ∂C/∂(a ⊙ mask).",
           "grad, mask: (N, n) -> (N, n)."),
    ), "A layer that multiplies by a constant has that constant as its derivative; "
       "inverted dropout's rescaling travels backwards too."),
    Exercise(5, "batchnorm", "batch norm's backward step", (
        _t("BatchNorm.backward", "scratchnet", "layers.py",
           "y = γ x̂ + β with x̂ = (z − μ)/√(σ² + ε). From grad_out = ∂C/∂y and",
           "cache = (x̂, 1/√(σ² + ε), training) as forward returns it, return",
           "(∂C/∂z, ∂C/∂γ, ∂C/∂β):  ∂C/∂γ = Σ_samples ∂C/∂y ⊙ x̂,  ∂C/∂β = Σ_samples ∂C/∂y.",
           "With g = ∂C/∂x̂ = ∂C/∂y ⊙ γ: in evaluation mode μ and σ² are constants and",
           "∂C/∂z = g/√(σ² + ε); in training mode they depend on every row of z and",
           "∂C/∂z = (N g − Σ_samples g − x̂ Σ_samples(g ⊙ x̂)) / (N √(σ² + ε)).",
           "grad_out: (N, n) -> ((N, n), (n,), (n,))."),
    ), "Differentiating through statistics of the batch itself: every sample's gradient "
       "depends on every other sample's."),
    Exercise(6, "sgd", "SGD's step (momentum, dampening, Nesterov, weight decay)", (
        _t("SGD._update", "scratchnet", "optim.py",
           "One torch.optim.SGD step for parameter i. p is the array itself (update it in",
           "place: p -= ...), g its gradient (leave g unchanged); keep the momentum buffer",
           "in self.buffers[i], and read the rate self.lr at every step (a scheduler changes it).",
           "  g ← g + λθ                                   (λ = self.weight_decay)",
           "  if μ ≠ 0: b ← g at the first step (buffer None), else b ← μb + (1 − τ)g",
           "            g ← g + μb if self.nesterov, else g ← b",
           "  θ ← θ − γg                                   (γ = self.lr)"),
    ), "Momentum, dampening, Nesterov's look-ahead and coupled weight decay, each in its "
       "place, exactly as torch.optim.SGD orders them."),
    Exercise(7, "adam", "Adam's step (bias correction; ε outside or inside the root)", (
        _t("Adam._update", "scratchnet", "optim.py",
           "One torch.optim.Adam step for parameter i: update the array p in place from its",
           "gradient g; self.t is the step count (1 at the first step), self.m[i] and",
           "self.v[i] the moments (update them in place).",
           "  g ← g + λθ;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²",
           "  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)",
           "  θ ← θ − γ m̂ / (√v̂ + ε)          (torch.optim.Adam)",
           "  θ ← θ − γ m̂ / √(v̂ + ε)          (self.eps_inside_sqrt: the homework's Adam)"),
    ), "Why Adam's first steps need bias correction, and that ε's place changes the "
       "algorithm near a minimum, where v̂ is small."),
    Exercise(8, "steplr", "StepLR", (
        _t("StepLR.step", "scratchnet", "optim.py",
           "Called once at the end of every epoch: after e calls the optimizer's lr is",
           "lr₀ γ^⌊e / step_size⌋ (torch.optim.lr_scheduler.StepLR): multiply",
           "self.optimizer.lr by self.gamma every step_size calls."),
    ), "A schedule is state kept next to the optimizer; off-by-one errors show as a "
       "decay one epoch early or late."),
    Exercise(9, "problem1", "the homework's Rosenbrock optimizers (Problem 1)", (
        _t("homework_gd", "problem1", "reference.py",
           "Gradient descent: θ_{j+1} = θ_j − η ∇f(θ_j), from θ_0 = init.",
           "Return the trajectory θ_0, ..., θ_n as an (n_epochs + 1, 2) array."),
        _t("homework_gd_with_mom", "problem1", "reference.py",
           "The homework's heavy ball: v ← γv + ∇f(θ) from v = 0, then θ ← θ − ηv.",
           "(beta is unused; it stays for the homework's signature.)",
           "Return the trajectory as an (n_epochs + 1, 2) array."),
        _t("homework_adams", "problem1", "reference.py",
           "The homework's Adam, at step j = 0, 1, ...: v ← γv + (1 − γ)g, s ← βs + (1 − β)g²,",
           "v̂ = v/(1 − γ^{j+1}), ŝ = s/(1 − β^{j+1}), θ ← θ − η v̂/√(ŝ + ε) (ε inside the root).",
           "Return the trajectory as an (n_epochs + 1, 2) array."),
    ), "The same three algorithms as exercises 6 and 7, without classes: the heavy ball is "
       "torch's SGD with momentum, and the homework's Adam puts ε inside the root."),
    Exercise(10, "loop", "a PyTorch training loop", (
        _t("train", "loop", "exercises/training_loop.py",
           "See the docstring: one optimizer step per batch, gradients zeroed before each",
           "backward, train() mode for training and eval() mode for testing."),
    ), "The PyTorch dance (zero_grad, forward, loss, backward, step) in its places; the "
       "homework's own Problem 3 loop steps the optimizer once per epoch, and its deep net "
       "never learns."),
)

BY_NUMBER = {e.number: e for e in EXERCISES}
TARGETS = tuple((e, t) for e in EXERCISES for t in e.targets)
