"""Does GD move an FCN on the k = log2 n parity at all? Next to a CNN on the same task.

  python -m cnnfcn_jax.main --config=configs/fcn_stuck.py --workdir=runs/fcn_stuck
  python -m cnnfcn_jax.main --config=configs/fcn_stuck.py:quick --workdir=/tmp/fcn_stuck
"""

import ml_collections



def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "fcn_stuck"
  c.ns = (16, 32, 64)  # [choice] k = log2 n: 4, 5, 6
  c.target = "parity"
  c.localities = ("local",)
  c.position = -1  # the middle window
  c.task_seed = 0
  c.seeds = (0, 1, 2, 3)  # [choice]
  c.min_num_train = 8192  # [choice] training sample size m, the same at every n
  c.samples_per_readout_weight = 0.0  # [choice] m does not grow with the readout here
  c.num_test = 4096  # [choice]
  c.num_steps = 500  # [choice]
  c.log_every = 25  # [choice]
  c.activation = "relu"
  c.compute_path = "auto"  # CNN forward: "table" (exact on {±1}^n, fast), "dense", or auto
  # [choice] seeds per vmapped block: "auto" (train.resolve_block: cache-sized blocks on a
  # CPU, all of a device's seeds on an accelerator when they fit), or an integer (0 = all).
  # Blocks run in sequence, so a block bounds memory; the block used is in every row.
  # Results are bitwise identical for one block size however blocks are grouped.
  c.seeds_per_block = "auto"
  c.seeds_per_call = 0  # seeds per jitted call, whole blocks; 0 = all seeds in one call
  # Both by plain full-batch GD, as in the paper. [choice] widths and learning rates.
  c.fcn = ml_collections.ConfigDict(dict(
      widths=(256,), init="gaussian", trainable=("W", "b", "u"), optimizer="gd",
      learning_rate=0.5, first_layer_step="same", max_n=0))
  c.cnn = ml_collections.ConfigDict(dict(
      widths=(256,), init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
      first_layer_step="same", max_n=0))  # [choice] n <= 64: the same step is stable
  c.archs = ("fcn", "cnn")
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":
    c.ns = (8, 16)
    c.seeds = (0, 1)
    c.min_num_train = 512
    c.num_test = 256
    c.num_steps = 20
    c.log_every = 10
    c.fcn.widths = c.cnn.widths = (16,)
  elif variant:
    raise ValueError(f"configs/fcn_stuck.py: unknown variant {variant!r}; use '' or 'quick'")
  return c
