"""Do CNNs and LCNs learn a k-pattern that FCNs cannot? (docs/spec.md §3-§5, Theorems 4 and 12)

Parity of k consecutive bits in the middle of x ~ uniform{±1}^n, and its non-local twin
(the same parity of k bits pairwise >= k apart). CNN and LCN from the paper's init
(Theorem 4) trained by full-batch GD; the FCN from an i.i.d. Gaussian init.

  python -m cnnfcn_jax.main --config=configs/separation.py --workdir=runs/separation
  python -m cnnfcn_jax.main --config=configs/separation.py:quick --workdir=/tmp/separation

Defaults marked [choice] are ours; the rest are the paper's (docs/spec.md §2-§4).
"""

import ml_collections



def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "separation"
  # Task (docs/spec.md §3).
  c.k = 4  # [choice] pattern size: FCNs learn it at small n and fail by n = 64 here
  c.ns = (16, 32, 64, 128, 256, 512, 1024)  # [choice] input sizes
  c.target = "parity"  # the paper's hard g: product of the k bits
  c.localities = ("local", "nonlocal")  # the k-pattern and its non-local twin
  c.position = -1  # window start of the local pattern; -1 = the middle
  c.task_seed = 0  # draws the non-local coordinates (and g when target = "random")
  # Data and training.
  c.seeds = (0, 1, 2, 3)  # [choice] replicates: each seed draws its own sample and init
  # Sample size rule (docs/spec.md §4, "Scaling with n"): m(n) = max(min_num_train,
  # ceil(samples_per_readout_weight x N(n))), N(n) = q (n - k + 1) the CNN's and LCN's
  # readout, the largest of the config; every architecture, the FCN included, gets m(n).
  c.min_num_train = 8192  # [choice]
  c.samples_per_readout_weight = 0.25  # [choice] m = 8192 up to n = 256, 32,672 at n = 1024
  c.num_test = 4096  # [choice] held-out sample size
  c.num_steps = 600  # [choice] full-batch steps T
  c.log_every = 50  # [choice] metrics are recorded every log_every steps
  c.activation = "relu"  # the paper's σ
  c.compute_path = "auto"  # CNN/LCN forward: "table" (exact on {±1}^n, fast), "dense", or auto
  # [choice] seeds per vmapped block: "auto" (train.resolve_block: cache-sized blocks on a
  # CPU, all of a device's seeds on an accelerator when they fit), or an integer (0 = all).
  # Blocks run in sequence, so a block bounds memory; the block used is in every row.
  # Results are bitwise identical for one block size however blocks are grouped.
  c.seeds_per_block = "auto"
  c.seeds_per_call = 0  # seeds per jitted call, whole blocks; 0 = all seeds in one call
  # Per architecture: widths, init, trained groups, optimiser, step η, first_layer_step
  # and max_n (> 0: skip the architecture at n > max_n). CNN/LCN: Theorem 4 (paper init,
  # b fixed, GD on W and u). [choice] width q, η. Step rule: with first_layer_step =
  # "per_window" the first layer's step is η / (windows sharing one filter): η/(n - k + 1)
  # for the CNN's shared kernel, whose gradient sums over all windows (at η on W too, GD
  # diverges from n = 512 on), η for the LCN's per-window filters.
  c.cnn = ml_collections.ConfigDict(dict(
      widths=(128,), init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
      first_layer_step="per_window", max_n=0))
  c.lcn = ml_collections.ConfigDict(dict(
      widths=(128,), init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
      first_layer_step="per_window", max_n=0))
  # FCN: [choice] i.i.d. Gaussian init (permutation invariant, as Theorem 12 assumes) and
  # Adam, a stronger optimiser than the theorem's GD, so its failure is not GD's.
  # [choice] max_n: the FCN is at chance from n = 64 on; larger n would only cost time.
  c.fcn = ml_collections.ConfigDict(dict(
      widths=(128,), init="gaussian", trainable=("W", "b", "u"), optimizer="adam",
      learning_rate=1e-3, first_layer_step="same", max_n=128))
  c.archs = ("cnn", "lcn", "fcn")
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":  # smoke test: seconds, not a result
    c.ns = (16, 32)
    c.seeds = (0, 1)
    c.min_num_train = 1024
    c.num_test = 512
    c.num_steps = 40
    c.log_every = 20
    for arch in ("cnn", "lcn", "fcn"):
      c[arch].widths = (16, 32)
  elif variant:
    raise ValueError(f"configs/separation.py: unknown variant {variant!r}; use '' or 'quick'")
  return c
