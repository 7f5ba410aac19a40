"""The ecosystem model meets its stylized facts, direction tests, conservation and switches
(analysis.validation), and docs/validation.md shows what the current build measures."""
from generated import check_generated
from analysis.validation import validate

check_generated(validate, "validation")
