"""Samples, width and luck: P(success) over sample size x width, and the sample frontier m*(n).

Parity of k consecutive bits in the middle of x ~ uniform{±1}^n (the non-local twin as an
option). Full-batch training on m samples for a fixed number of steps with the separation
experiment's rules per architecture (CNN and LCN: the paper's init and GD, W's step divided
by the windows sharing a filter; FCN: an i.i.d. Gaussian init and Adam); success = test
accuracy >= success_accuracy on fresh samples. All seeds x widths of one (arch, locality, n,
m) train in one jitted call.

Two parts:
  phase diagram  at n = phase_n: every width of phase_widths x every m of phase_num_trains;
  frontier       at each n of <arch>.frontier_ns: the width <arch>.frontier_width at the m of
                 frontier_num_trains that bracket P(success) = 1/2, then geometric
                 midpoints inside the bracket of the first crossing until it is at most
                 frontier_bracket_ratio wide; m*(n) = the smallest m with P(success) >= 1/2
                 (interpolated in log m), and the exponent β of m* ≈ c n^β;
  width series   at n = phase_n: <arch>.width_series searched jointly the same way, m*(q),
                 each width at a learning rate chosen on held-out seeds, in each arm of
                 series_arms (experiments/samples_width/series.py).

  python -m cnnfcn_jax.main --config=configs/samples_width.py --workdir=runs/samples_width
  python -m cnnfcn_jax.main --config=configs/samples_width.py:quick --workdir=/tmp/samples_width
  python -m cnnfcn_jax.main --config=configs/samples_width.py:paper --workdir=runs/sw_paper

`:paper` is sized for an accelerator (256 seeds per point, larger n and grids). Defaults
marked [choice] are ours: this experiment is not in the paper.
"""

import ml_collections


def get_config(variant=""):
  c = ml_collections.ConfigDict()
  c.experiment = "samples_width"
  # Task (docs/spec.md §3).
  c.k = 3  # [choice] pattern size: the FCN's frontier at n = 32 is inside the grid here
  c.target = "parity"  # the paper's hard g: product of the k bits
  c.localities = ("local",)  # [choice] add "nonlocal" for the non-local twin
  c.position = -1  # window start of the local pattern; -1 = the middle
  c.task_seed = 0  # draws the non-local coordinates (and g when target = "random")
  # Phase diagram [choice]: n = 32, widths 2 ... 2^(k+3), every m by factors of 2 over 2.1
  # decades (one program per arch: every m drawn at the largest, train.Sweep.train_capacity).
  c.phase_n = 32
  c.phase_widths = (2, 4, 8, 16, 32, 64)
  c.phase_num_trains = (32, 64, 128, 256, 512, 1024, 2048, 4096)
  # Frontier [choice]: m by factors of 2 over 2.7 decades; at each n only the m that
  # bracket P(success) = 1/2 are run (experiments/samples_width/, frontier_search).
  c.frontier_num_trains = tuple(2**i for i in range(5, 15))  # 32 ... 16,384
  c.seeds = tuple(range(64))  # [choice] networks per point: each its own sample and init
  c.num_test = 2048  # [choice] fresh test samples per seed
  c.success_accuracy = 0.95  # [choice] success: test accuracy >= this
  c.bootstrap_resamples = 1000  # [choice] resamples of the seeds for m* and β intervals
  # [choice] Midpoints of m inside the bracket of the first crossing of 1/2 until
  # m_hi/m_lo <= this (two from a factor-2 grid) or P is within [0.2, 0.8] on both sides;
  # m*'s interval is never narrower than the bracket, so this sets its floor.
  c.frontier_bracket_ratio = 1.25
  c.frontier_max_refinements = 4  # [choice] midpoints per search of one width (2 needed)
  # [choice] midpoints per search of the width series, all widths in each: 2 of them, the
  # widest brackets first (chosen when a midpoint cost about 25 s on the 2-core CPU, most of
  # it compiling; now 2-12 s); the widths left wider keep their brackets in their intervals.
  c.series_max_refinements = 4
  # [choice] The width series' arms (experiments/samples_width/series.py): "standard" (the
  # FCN's parametrisation, a rate per width), "mup" (readout multiplier 1/q: one base rate for
  # every width), "sparse" (standard, each unit on series_sparse_support coordinates).
  c.series_arms = ("standard", "mup")
  # [choice] Adam rates each arm chooses from, 6 over 33x (standard) and 50x (mup): a run on
  # standard 0.01 ... 0.5 chose its top rate at q = 8, 16 and 32 (0.1 at 64 and 128, 0.01
  # never), so the standard grid starts at 0.03 and reaches 1; mup chose 2 at every width.
  c.series_learning_rates = ml_collections.ConfigDict(dict(
      standard=(0.03, 0.06, 0.125, 0.25, 0.5, 1.0), mup=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
      sparse=(0.03, 0.06, 0.125, 0.25, 0.5, 1.0)))
  # [choice] Seeds that choose each width's rate (the grid of m, no midpoints), disjoint from
  # `seeds`, which report m*(q) at the chosen rates: the choice is held out.
  c.series_selection_seeds = tuple(range(1000, 1032))
  c.series_sparse_support = 8  # [choice] coordinates per unit of the sparse arm (n/4 at n = 32)
  c.activation = "relu"  # the paper's σ
  c.compute_path = "auto"  # CNN/LCN forward: "table" (exact on {±1}^n, fast), "dense", or auto
  c.seeds_per_block = "auto"  # as in configs/separation.py
  c.seeds_per_call = 0  # seeds per jitted call, whole blocks; 0 = all seeds in one call
  # [choice] On a CPU the launcher shows the cores as this many JAX devices (0: one per
  # core); each call shards its seed blocks over them (results equal one device's to float
  # rounding, see train.run_sweep). A number, not 0: results do not depend on the core count.
  c.cpu_devices = 2
  # [choice] XLA's LLVM optimisation level of the sweeps on the CPU (XLA's default is 3):
  # level 1 compiled this run's programs in 34% less time, its run times (252 s, 293 s)
  # within this machine's spread around level 3's (267 s); every network's success was
  # level 3's, some FCN rows differ in their last bits.
  c.llvm_level = 1
  # Per architecture: training (as in configs/separation.py unless marked), steps, and the
  # frontier's width and input sizes. CNN/LCN: Theorem 4's init (b fixed), GD on (W, u) at
  # η = 1, W's step divided by the windows sharing a filter (n - k + 1 for the CNN).
  # [choice] frontier width 2^(k+1) (two filters per pattern); n from 16 to 256; 300 steps.
  # [choice] phase_learning_rates: the tuned phase diagram, on which the phase claim is
  # judged: each phase width >= 2^k at the GD step of these (32x around the paper's 1)
  # chosen on series_selection_seeds (experiments/samples_width/series.py, PHASE); () = none.
  c.cnn = ml_collections.ConfigDict(dict(
      init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
      first_layer_step="per_window", num_steps=300, log_every=300, frontier_width=16,
      frontier_ns=(16, 32, 64, 128, 256), frontier_max_num_train=0,
      phase_learning_rates=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0)))
  c.lcn = ml_collections.ConfigDict(dict(
      init="paper", trainable=("W", "u"), optimizer="gd", learning_rate=1.0,
      first_layer_step="per_window", num_steps=300, log_every=300, frontier_width=16,
      frontier_ns=(16, 32, 64, 128, 256), frontier_max_num_train=0,
      phase_learning_rates=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0)))
  # FCN: i.i.d. Gaussian init and Adam on (W, b, u), as in separation, with [choice]:
  # b ~ N(0, 1) ("gaussian_bias"; with b = 0 the population gradient on an odd-k parity is
  # exactly 0, docs/spec.md §2; separation's k = 4 is even); Adam at 1e-2 for 150 steps
  # (separation: 1e-3 for 600; at 1e-2 the FCN reaches its frontier in a quarter of the
  # time, which this CPU budget needs); frontier at the widest phase width, n up to 64,
  # m up to 8192 (frontier_max_num_train; 0 = the whole grid).
  # [choice] width_series: m*(q) at n = phase_n, against Edelman et al. 2023 (width buys
  # samples for MLPs on sparse parities), its m up to max(phase_num_trains). Widths 8 ...
  # 128 here, 256 ... 1024 in `:paper` only: a selection unit (6 rates x 32 seeds) of 8 ...
  # 128 at m = 2048 took 28 s on the idle 2-core CPU, and each arm's searches run about ten
  # m; 8 ... 512 costs 4x that (the sum of the widths), past this run's 15 minutes.
  c.fcn = ml_collections.ConfigDict(dict(
      init="gaussian_bias", trainable=("W", "b", "u"), optimizer="adam", learning_rate=1e-2,
      first_layer_step="same", num_steps=150, log_every=150, frontier_width=64,
      frontier_ns=(16, 32, 64), frontier_max_num_train=8192,
      width_series=(8, 16, 32, 64, 128)))
  c.archs = ("cnn", "lcn", "fcn")
  c.precision = "float32"  # [choice] "float32" or "float64" for the whole run
  c.prng_impl = "threefry2x32"  # pinned PRNG: results are a pure function of the config
  if variant == "quick":  # smoke test: seconds, not a result
    c.phase_num_trains = (64, 512)
    c.frontier_num_trains = (64, 512)
    c.phase_n = 16
    c.phase_widths = (4, 8)
    c.seeds = tuple(range(4))
    c.num_test = 256
    c.bootstrap_resamples = 50
    for arch in c.archs:
      c[arch].num_steps = 60
      c[arch].log_every = 60
      c[arch].frontier_width = 8
      c[arch].frontier_ns = (16, 32)
    c.fcn.width_series = (4, 8)
    c.series_learning_rates.standard = (0.01, 0.1)
    c.series_learning_rates.mup = (0.1, 1.0)
    c.series_selection_seeds = tuple(range(1000, 1004))
    c.series_max_refinements = 2
    c.cnn.phase_learning_rates = c.lcn.phase_learning_rates = (1.0, 2.0)
  elif variant == "paper":  # for an accelerator
    c.localities = ("local", "nonlocal")
    c.phase_num_trains = tuple(2**i for i in range(4, 17))  # 16 ... 65,536: 3.6 decades
    c.frontier_num_trains = tuple(2**i for i in range(4, 19))  # 16 ... 262,144
    c.phase_widths = tuple(2**i for i in range(1, 9))  # 2 ... 256 = 2^(k+5)
    c.seeds = tuple(range(256))
    c.num_test = 8192
    c.bootstrap_resamples = 2000
    for arch in ("cnn", "lcn"):
      c[arch].num_steps = 600
      c[arch].log_every = 600
      c[arch].frontier_ns = (16, 32, 64, 128, 256, 512, 1024)
    c.fcn.num_steps = 600
    c.fcn.log_every = 600
    c.fcn.frontier_ns = (16, 24, 32, 48, 64, 96, 128)
    c.fcn.frontier_max_num_train = 0
    c.fcn.width_series = tuple(2**i for i in range(3, 11))  # 8 ... 1024
    c.series_max_refinements = 8
    c.series_arms = ("standard", "mup", "sparse")
    c.series_selection_seeds = tuple(range(1000, 1128))
  elif variant:
    raise ValueError(f"configs/samples_width.py: unknown variant {variant!r}; "
                     "use '', 'quick' or 'paper'")
  return c
