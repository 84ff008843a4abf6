"""How many SGD steps do CNN, LCN and FCN need to learn a k-parity, as n grows? (docs/spec.md §9)

Online SGD on the hinge loss (a fresh batch every step, after Barak et al. 2022), many seeds
per (arch, n, k) in one jitted call; each network records the first step at which its
accuracy on a fixed evaluation batch reaches success_accuracy (censored at num_steps).
Two series: fixed k over n, and k = log2 n (Theorem 12's regime).

  python -m cnnfcn_jax.main --config=configs/time_to_learn.py --workdir=runs/time_to_learn
  python -m cnnfcn_jax.main --config=configs/time_to_learn.py:quick --workdir=/tmp/ttl
  python -m cnnfcn_jax.main --config=configs/time_to_learn.py:paper --workdir=runs/ttl_paper

Each network is measured at its best step: every cell trains a grid of learning rates (and
for the FCN two optimisers) side by side, and the report takes each cell's best.
`:paper` is sized for an accelerator (1024 seeds per cell, larger n and k, both localities,
finer grids). Defaults marked [choice] are ours: this experiment is not in the paper.
"""

import ml_collections

# [choice] The budget every rate of every cell may reach. Its binding cell is the FCN's n = 64,
# k = 6, whose median stays censored: every one of its 13 rates trains to it (no stages),
# so the wall verdict rests on no rate dropped early. 60,000 lies above what the FCN's
# n = 16 -> 32 segment predicts at n = 64 at both its upper ends (M(32)'s, 3272, and the
# slope's, 4.07: 54,842 steps in the run published at 0.5.0), and costs what the stages to
# 90,000 cost (13 rates x 60,000 against 13 x 45,000 + 5 x 45,000 network-steps per seed).
FCN_WALL_STEPS = 60000


def geometric(center, low, high, per_decade=2):
  """center x 10^(i / per_decade) for i = low ... high: a geometric grid through center."""
  return tuple(float(f"{center * 10 ** (i / per_decade):.6g}") for i in range(low, high + 1))


def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "time_to_learn"
  # Task (docs/spec.md §3): parity of k bits, the middle window by default.
  c.target = "parity"
  c.localities = ("local",)  # [choice] add "nonlocal" for the non-local twin
  c.position = -1  # window start of the local pattern; -1 = the middle
  c.task_seed = 0
  # Series, per architecture: fixed k (every k of fixed_ks at every n of <arch>.ns) and
  # k = log2 n (every n of <arch>.log2_ns); an empty tuple leaves the arch out of a series.
  c.fixed_ks = (2, 3, 4)  # [choice]
  c.seeds = tuple(range(32))  # [choice] networks per (cell, optimiser, rate)
  # Protocol: "online" (a fresh i.i.d. batch every step) or "full_batch" (GD on num_train
  # fixed samples, read only then).
  c.protocol = "online"  # [choice]
  c.batch_size = 32  # [choice] Barak et al.'s batch
  c.num_train = 8192  # [choice] full_batch only
  # [choice] First budget B0: every rate of a call trains to num_steps; where a cell's final
  # budget (<arch>.log2_final_steps) is larger, the call keeps the ceil(R / halving_eta)
  # rates with the most successes and continues them from their state to halving_eta x
  # B0, and so on up to the final budget (successive halving, docs/spec.md §9). Networks
  # not successful by the budget their rate reached are censored there. The default has
  # no stages: every cell stops well before FCN_WALL_STEPS but the FCN's wall.
  c.num_steps = FCN_WALL_STEPS
  c.halving_eta = 3  # [choice]
  # [choice] "best_rate": a call (one cell and optimiser, all its rates) stops once every
  # seed of some rate has succeeded (no rate can then have a lower median) and, in the
  # fixed-k series, the fixed step's median is known; "all": once every network has.
  c.stop = "best_rate"
  # Evaluations at every step up to every_step_until (recorded steps there are exact),
  # then every eval_every steps while the gap stays below eval_growth x the step,
  # geometrically after that: a recorded step is resolved to within eval_every steps or a
  # factor eval_growth, whichever is coarser.
  c.every_step_until = 64  # [choice]
  c.eval_every = 2  # [choice]
  c.eval_growth = 1.05  # [choice]
  c.num_eval = 8192  # [choice] fresh evaluation samples per seed
  c.success_accuracy = 0.99  # [choice]
  c.activation = "relu"
  c.compute_path = "auto"  # CNN/LCN: "table" (exact on {±1}^n), "dense", or auto
  # Per architecture. Width q = max(width, width_per_pattern x 2^k): CNN/LCN need q >= 2^k
  # filters to hold every pattern (Lemma 6). Step rule as in separation: "per_window"
  # divides the CNN's shared-kernel step by its n - k + 1 windows. `rates`: per optimiser,
  # the geometric grid of learning rates trained side by side (one call per optimiser);
  # each cell is reported at its best. `optimizer` / `learning_rate`: the fixed step, one
  # of the grid, reported beside the tuned results. `log2_final_steps`: ((n, steps), ...),
  # final budgets above num_steps for cells of the k = log2 n series.
  # [choice] CNN/LCN: paper init, plain SGD on (W, u), 4 filters per pattern, n from 8 to
  # 512 by factors of 4 (`:paper` goes to 2048; n = 1024 alone would cost this CPU about as
  # much as the rest of the run); k = log2 n up to n = 64 for the CNN, 32 for the LCN (its
  # 59 tables of 64 patterns x 256 filters at n = 64 cost this CPU over 10 minutes). Fixed step 1.0 for the CNN; 0.2 for the LCN, whose
  # per-window filters move at the full step (at 1.0 online SGD stalls from n = 512 on).
  c.cnn = ml_collections.ConfigDict(dict(
      width=0, width_per_pattern=4, init="paper", trainable=("W", "u"), optimizer="sgd",
      learning_rate=1.0, rates=dict(sgd=geometric(1.0, -3, 2)),  # 0.0316 ... 10
      first_layer_step="per_window", ns=(8, 32, 128, 512), log2_ns=(8, 16, 32, 64),
      log2_final_steps=()))
  c.lcn = ml_collections.ConfigDict(dict(
      width=0, width_per_pattern=4, init="paper", trainable=("W", "u"), optimizer="sgd",
      learning_rate=0.2, rates=dict(sgd=geometric(0.2, -1, 4)),  # 0.0632 ... 20
      first_layer_step="per_window", ns=(8, 32, 128, 512), log2_ns=(8, 16, 32),
      log2_final_steps=()))
  # [choice] FCN of width 128 (Barak et al. use 100), W ~ N(0, 1/n), b ~ N(0, 1): with
  # b = 0 odd-k parities start from an exactly zero population gradient (docs/spec.md §2).
  # Fixed step: plain SGD at 0.1 (Barak et al.'s); grids for SGD and Adam. n up to 64:
  # beyond, k = 4 outruns the budget. At n = 64, k = 6 fewer than half the seeds succeed
  # by 100,000 steps at any rate: every rate of that cell trains to FCN_WALL_STEPS.
  # Adam's grid starts at 0.000316 so that it brackets that cell's best.
  c.fcn = ml_collections.ConfigDict(dict(
      width=128, width_per_pattern=0, init="gaussian_bias", trainable=("W", "b", "u"),
      optimizer="sgd", learning_rate=0.1,
      rates=dict(sgd=geometric(0.1, -1, 4),  # 0.0316 ... 10
                 adam=geometric(0.001, -1, 5)),  # 0.000316 ... 0.316
      first_layer_step="same", ns=(8, 16, 32, 64), log2_ns=(8, 16, 32, 64),
      log2_final_steps=()))
  c.archs = ("cnn", "lcn", "fcn")
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  # [choice] On a CPU the launcher shows the cores as this many JAX devices (0: one per
  # core) and each call shards its seeds over them: the FCN's calls run 1.9x faster on
  # this 2-core CPU, where one device runs its small batched matmuls on one core. A number,
  # not 0, so that results do not depend on the machine's core count. SGD's steps are
  # bitwise those of one device; Adam's drift with the batched matmuls' rounding (426 of
  # 3,072 FCN Adam networks of the default run record another step than on one device).
  c.cpu_devices = 2
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":  # smoke test: seconds, not a result
    c.fixed_ks = (2, 3)
    for arch in c.archs:
      c[arch].ns = (8, 16)
      c[arch].log2_ns = (8,)
    c.seeds = tuple(range(4))
    c.num_steps = 300
    c.num_eval = 1024
    c.eval_every = 5
    c.cnn.rates = dict(sgd=geometric(1.0, -1, 1))
    c.lcn.rates = dict(sgd=geometric(0.2, -1, 1))
    c.fcn.rates = dict(sgd=geometric(0.1, 0, 2), adam=geometric(0.001, 0, 1))
    c.fcn.log2_ns = (8, 16)
    c.fcn.log2_final_steps = ((16, 2700),)  # halving stages at 300, 900 and 2700 steps
  elif variant == "paper":  # for an accelerator
    c.localities = ("local", "nonlocal")
    c.fixed_ks = (2, 3, 4, 5)
    c.seeds = tuple(range(1024))
    c.num_steps = 200000
    for arch in ("cnn", "lcn"):  # nonlocal needs n >= (k - 1) k + 1 = 21
      c[arch].ns = (32, 64, 128, 256, 512, 1024, 2048)
      c[arch].log2_ns = (8, 16, 32, 64, 128)
    c.fcn.ns = (32, 64, 128, 256)
    c.fcn.log2_ns = (8, 16, 32, 64, 128)
    c.fcn.log2_final_steps = ((64, 600000), (128, 1800000))
    # Quarter-decade grids over a wider range.
    c.cnn.rates = dict(sgd=geometric(1.0, -8, 6, 4))  # 0.01 ... 31.6
    c.lcn.rates = dict(sgd=geometric(0.2, -4, 8, 4))  # 0.02 ... 20
    c.fcn.rates = dict(sgd=geometric(0.1, -4, 8, 4),  # 0.01 ... 10
                       adam=geometric(0.001, -2, 10, 4))  # 0.000316 ... 0.316
  elif variant:
    raise ValueError(f"configs/time_to_learn.py: unknown variant {variant!r}; "
                     "use '', 'quick' or 'paper'")
  return c
