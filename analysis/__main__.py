"""Command line of the analysis package: `python3 -m analysis report PATH -o report.html`."""
import argparse
import sys

from analysis.load import IncompleteOutputError
from analysis.report import write_report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m analysis",
                                     description="Analyse citysim output files (runs and sweeps).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser("report", help="write a self-contained HTML report of a run or sweep",
                                 description="Write one self-contained HTML file (figures embedded) with the "
                                             "provenance, a per-city table and the figures of a run or sweep.")
    report.add_argument("path", metavar="PATH", help="a run file (.h5), a sweep directory, or its sweep.h5")
    report.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    report.add_argument("--title", help="title of the report (default: from the file name)")
    report.add_argument("--allow-incomplete", action="store_true",
                        help="report on a file whose run did not finish (its status is not 'complete')")
    generators = {
        "validation": ("measure the model against stylized facts and write docs/validation.md",
                       "Run the China baseline and its paired variants, measure survival, firm sizes, VC "
                       "distance decay, direction tests, conservation and switches, and write the markdown.",
                       "a figure leaves its band"),
        "calibration": ("measure the baseline against city-facts.yaml and write docs/calibration.md",
                        "Run the China baseline, measure the quantities that match figures of "
                        "city-facts.yaml (AI talent shares, firm ratios, price-to-income, incumbents' "
                        "share), its drift and its assumed numbers, and write the markdown.",
                        "a figure leaves its tolerance"),
    }
    for name, (summary, description, failure) in generators.items():
        generator = commands.add_parser(name, help=summary, description=description)
        generator.add_argument("--citysim", default="build/citysim", help="the citysim binary (default: build/citysim)")
        generator.add_argument("--scenario", default="scenarios/china-2025.yaml", help="baseline scenario")
        generator.add_argument("-o", "--output", help="markdown file to write (default: print it)")
        generator.add_argument("--check", action="store_true", help=f"exit 1 if {failure}")
    args = parser.parse_args(argv)
    if args.command in generators:
        if args.command == "validation":
            from analysis.validation import validate as generate
        else:
            from analysis.calibration import calibrate as generate
        text, failures = generate(args.citysim, args.scenario, args.output, args.check)
        if not args.output:
            print(text)
        for failure in failures:
            print(f"{args.command} failed: {failure}", file=sys.stderr)
        return 1 if failures else 0
    try:
        count = write_report(args.path, args.output, title=args.title, allow_incomplete=args.allow_incomplete)
    except (IncompleteOutputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"report: {args.output} ({count} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
