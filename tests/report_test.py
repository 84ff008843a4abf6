"""The reports' claim checks on hand-made rows: each claim can hold and can fail."""

from cnnfcn_jax import report


def sequence_rows(label, accuracy):
  """accuracy: {(arch, n): value}; two seeds with that mean."""
  return [dict(arch=arch, n=n, label=label, seed=s, test_accuracy=value + d)
          for (arch, n), value in accuracy.items() for s, d in enumerate((-0.005, 0.005))]


def verdicts(checks):
  return {claim.split(" (")[0]: holds for claim, holds, _ in checks}


def test_local_sequence_claims_follow_the_numbers():
  paper_like = {("fcn", 3): 0.70, ("fcn", 19): 0.50, ("cnn", 3): 0.69, ("cnn", 19): 0.62,
                ("lcn", 3): 0.70, ("lcn", 19): 0.68}
  held = verdicts(report.mnist_checks(sequence_rows("local", paper_like), 2000))
  assert all(held.values()) and len(held) == 5, held
  broken = {**paper_like, ("fcn", 19): 0.66, ("lcn", 19): 0.51, ("lcn", 3): 0.60}
  held = verdicts(report.mnist_checks(sequence_rows("local", broken), 2000))
  assert held == {"CNN stays above chance at every n": True,
                  "LCN stays above chance at every n": False,
                  "FCN is at chance at the largest n": False,
                  "FCN degrades as n grows": True,
                  "LCN above CNN": False}, held


def test_nonlocal_sequence_claims_skip_n3_and_follow_the_numbers():
  accuracy = {("fcn", 3): 0.5, ("fcn", 7): 0.63, ("fcn", 19): 0.50, ("cnn", 3): 0.9,
              ("cnn", 7): 0.53, ("cnn", 19): 0.50, ("lcn", 3): 0.9, ("lcn", 7): 0.53,
              ("lcn", 19): 0.49}
  checks = report.mnist_checks(sequence_rows("nonlocal", accuracy), 2000)
  assert [holds for _, holds, _ in checks] == [True, True]
  assert "n = 7" in checks[0][0]  # n = 3 has the same label for both tasks: skipped
  accuracy[("cnn", 19)] = 0.60
  assert [h for _, h, _ in report.mnist_checks(sequence_rows("nonlocal", accuracy), 2000)] \
      == [True, False]


def test_figure1_claims_follow_the_numbers():
  points = {("cnn", 2, 4): (1e4, 0.80), ("cnn", 2, 8): (1e5, 0.90),
            ("fcn", 2, 32): (2e4, 0.70), ("fcn", 2, 128): (1e6, 0.72)}
  assert [h for _, h, _ in report.params_checks(points)] == [True, True]
  points[("fcn", 2, 32)] = (2e4, 0.85)  # above the only CNN with fewer parameters
  assert [h for _, h, _ in report.params_checks(points)] == [False, True]
  points[("fcn", 2, 32)] = (2e4, 0.70)
  points[("fcn", 2, 128)] = (1e6, 0.99)  # FCN accuracy grows faster, and beats every CNN
  assert [h for _, h, _ in report.params_checks(points)] == [False, False]
