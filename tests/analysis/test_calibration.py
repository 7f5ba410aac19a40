"""The China baseline reproduces the figures of city-facts.yaml it has a matching quantity for, within
their tolerances, and holds each city's talent still (analysis.calibration); docs/calibration.md shows
what the current build measures."""
from generated import check_generated
from analysis.calibration import calibrate

check_generated(calibrate, "calibration")
