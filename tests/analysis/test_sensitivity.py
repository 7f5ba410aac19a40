"""analysis.sensitivity: Sobol indices of the Ishigami function match their known values, a real
Saltelli sweep of the China scenario gives finite, bounded indices with intervals around them, and a
sweep that is not a Saltelli design is refused."""
import os

import numpy as np
from scipy.stats import qmc

from common import SOURCE, check, citysim, finish, temp_dir
from outputs import sweep_dir
from analysis.sensitivity import saltelli_indices, saltelli_intervals, sobol_figure, sobol_indices

# Ishigami, a = 7, b = 0.1, inputs uniform on [-pi, pi]^3.
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x):
    return np.sin(x[..., 0]) + 7 * np.sin(x[..., 1]) ** 2 + 0.1 * x[..., 2] ** 4 * np.sin(x[..., 0])


k = 3
unit = qmc.Sobol(d=2 * k, scramble=False).random_base2(m=13)        # N = 8192 base rows
A, B = (-np.pi + 2 * np.pi * unit[:, :k], -np.pi + 2 * np.pi * unit[:, k:])
AB = np.where(np.eye(k, dtype=bool), B[:, None, :], A[:, None, :])   # AB[:, i] = A with column i from B
f_A, f_B, f_AB = ishigami(A), ishigami(B), ishigami(AB)
S1, ST = saltelli_indices(f_A, f_B, f_AB)
check(np.abs(S1 - ISHIGAMI_S1).max() < 0.02, f"Ishigami S1 {S1} vs {ISHIGAMI_S1}")
check(np.abs(ST - ISHIGAMI_ST).max() < 0.02, f"Ishigami ST {ST} vs {ISHIGAMI_ST}")
S1_interval, ST_interval = saltelli_intervals(f_A, f_B, f_AB, resamples=100, seed=1)
check(np.all((S1_interval[0] <= ISHIGAMI_S1 + 0.01) & (ISHIGAMI_S1 - 0.01 <= S1_interval[1])),
      f"Ishigami S1 intervals {S1_interval.T} hold the true values")
check(np.all(ST_interval[1] - ST_interval[0] < 0.1), f"Ishigami ST intervals are narrow at N = 8192: {ST_interval.T}")
check(np.array_equal(saltelli_intervals(f_A, f_B, f_AB, 20, seed=3)[0], saltelli_intervals(f_A, f_B, f_AB, 20, seed=3)[0]),
      "the bootstrap is reproducible for a seed")
shifted = saltelli_indices(f_A + 1e6, f_B + 1e6, f_AB + 1e6)
check(np.allclose(shifted[0], S1, atol=1e-6) and np.allclose(shifted[1], ST, atol=1e-6),
      "indices do not change when the output is shifted by a constant")

TEACHING_SOBOL = """\
description: Saltelli design of the teaching scenario, where all three parameters move Harbour's talent
base: BASE
seed: 3
replicates: 1
design: {kind: saltelli, samples: 16}
parameters:
  - {key: mechanisms.migration.income_weight, min: 2, max: 8}
  - {key: cities.harbour.housing.supply_elasticity, min: 0.3, max: 3}
  - {key: mechanisms.migration.moving_cost, min: 0.5, max: 3}
set: [simulation.steps=36, talent.agents=4000]
keep: final
"""

TWO_POINT_GRID = """\
description: a grid, not a Saltelli design
base: BASE
seed: 1
replicates: 1
design: {kind: grid}
parameters:
  - {key: mechanisms.migration.income_weight, values: VALUES}
set: [simulation.steps=2, talent.agents=500]
keep: final
"""


def check_table(table, parameters, label, bounded):
    check(list(table.columns) == ["parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"],
          f"{label}: columns {list(table.columns)}")
    check(list(table["parameter"]) == parameters, f"{label}: parameters in the sweep file's order: {list(table['parameter'])}")
    check(np.isfinite(table.drop(columns="parameter").to_numpy()).all(), f"{label}: finite indices\n{table}")
    for index in ("S1", "ST"):
        check(((table[f"{index}_low"] <= table[index]) & (table[index] <= table[f"{index}_high"])).all(),
              f"{label}: {index} lies in its interval\n{table}")
    check((table[["ST", "ST_low"]] >= 0).all().all(), f"{label}: total-order indices are never negative\n{table}")
    if bounded:
        check(((table[["S1", "ST"]] >= -0.5) & (table[["S1", "ST"]] <= 1.5)).all().all(),
              f"{label}: indices within [-0.5, 1.5]\n{table}")


with temp_dir() as tmp:
    # The shipped China design (160 runs, under a +15% productivity shock in Shenzhen): the table's
    # form everywhere, and for Shenzhen's talent bounded indices led by the cost of distance.
    china = os.path.join(tmp, "china-sobol")
    citysim("sweep", os.path.join(SOURCE, "scenarios", "sweeps", "china-sobol.yaml"), "-o", china, "-q")
    china_parameters = ["mechanisms.migration.income_weight", "mechanisms.migration.moving_cost_per_hour",
                        "cities.shenzhen.housing.supply_elasticity"]
    for city in (None, "shenzhen"):
        check_table(sobol_indices(china, var="talent", city=city, bootstrap=100), china_parameters,
                    f"china-sobol, talent in {city or 'all cities'}", bounded=city is not None)
    shenzhen = sobol_indices(china, var="talent", city="shenzhen", bootstrap=100)
    check(shenzhen.loc[shenzhen["ST"].idxmax(), "parameter"] == "mechanisms.migration.moving_cost_per_hour",
          f"the cost of distance drives Shenzhen's gain under the shock:\n{shenzhen}")
    check_table(sobol_indices(os.path.join(china, "sweep.h5"), var="rent", city="shenzhen", bootstrap=50),
                china_parameters, "china-sobol, rent in shenzhen (from sweep.h5)", bounded=False)

    # The teaching scenario, where the parameters matter: indices are bounded and the result is stable.
    teaching = sweep_dir(tmp, "teaching-sobol", TEACHING_SOBOL)
    table = sobol_indices(teaching, var="talent", city="harbour")
    check_table(table, ["mechanisms.migration.income_weight", "cities.harbour.housing.supply_elasticity",
                        "mechanisms.migration.moving_cost"], "teaching, talent in harbour", bounded=True)
    check(table["ST"].max() > 0.2, f"some parameter drives Harbour's talent:\n{table}")
    check(table.equals(sobol_indices(teaching, var="talent", city="harbour")), "the same seed gives the same table")
    figure = sobol_figure(table)
    check(len(figure.axes[0].patches) == 2 * len(table), "the figure has an S1 and an ST bar per parameter")

    for values, message in (("[2, 6]", "not a multiple of k + 2"), ("[2, 4, 6]", "not ordered A, B, AB")):
        grid = sweep_dir(tmp, f"grid{values.count(',')}", TWO_POINT_GRID.replace("VALUES", values))
        try:
            sobol_indices(grid)
            check(False, f"a grid with values {values} is refused")
        except ValueError as error:
            check(message in str(error), f"the refusal of grid {values} says why: {error}")
    try:
        sobol_indices(teaching, var="talent", city="atlantis")
        check(False, "an unknown city is refused")
    except KeyError:
        pass

finish()
