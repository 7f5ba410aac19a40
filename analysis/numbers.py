"""How citysim writes a number, the same in the report as on the command line (cli/table.hpp):

- NaN or infinite: "n/a";
- |x| >= 999.5, or x a whole number: rounded to a whole number with thousands separators ("17,796");
- otherwise three significant digits ("0.229", "12.3", "156"), in scientific notation only below 0.001.

tests/analysis/test_effects.py checks that this and `citysim compare --format json` agree.
"""
import math


def _whole(value):
    return abs(value) >= 999.5 or value == round(value)


def number(value, signed=False):
    """VALUE as text, with a "+" before positive numbers and zero when SIGNED."""
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        value = 0.0
    sign = "+" if signed else ""
    if _whole(value):
        rounded = round(value)
        return f"{rounded:{sign},d}" if rounded != 0 else f"{0:{sign}d}"
    return f"{value:{sign}.3g}"


def percent(fraction):
    """A relative change (0.042) as "+4.2%"; "n/a" when not finite."""
    fraction = float(fraction)
    if not math.isfinite(fraction):
        return "n/a"
    value = 100 * fraction
    return f"{0.0 if abs(value) < 0.05 else value:+.1f}%"
