"""`python3 -m analysis report` on sweeps (the directory or its sweep.h5) writes one self-contained HTML
file with the series, the network, paired policy differences, response curves and Sobol indices."""
import os

from common import finish, temp_dir
from outputs import ARMS_SWEEP, SALTELLI_SWEEP, sweep_dir
from reports import check_report

with temp_dir() as tmp:
    # Series and network (founding is off in the teaching scenario: 6 series), and paired differences of
    # talent, rent and home price.
    arms = sweep_dir(tmp, "arms", ARMS_SWEEP)
    check_report(arms, os.path.join(tmp, "arms.html"), 7 + 3, ("more_land", "same_again", "Resolved sweep file"))
    check_report(os.path.join(arms, "sweep.h5"), os.path.join(tmp, "arms-file.html"), 7 + 3)
    # Series and network, the response curves and one Sobol figure per city.
    saltelli = sweep_dir(tmp, "saltelli", SALTELLI_SWEEP)
    check_report(saltelli, os.path.join(tmp, "saltelli.html"), 7 + 1 + 2, ("Sobol indices", "Response curves"))

finish()
