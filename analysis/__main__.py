"""Command line of the analysis package: `python3 -m analysis report PATH -o report.html`,
`python3 -m analysis compare BASE POLICY -o diff.png` and `python3 -m analysis validation`."""
import argparse
import sys

from analysis.compare import compare
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
    report.add_argument("--baseline", metavar="BASE",
                        help="add a 'policy minus baseline' section: PATH against BASE (a run file, a sweep, or a "
                             "directory of run files), runs paired by (seed, run)")
    report.add_argument("--allow-incomplete", action="store_true",
                        help="report on a file whose run did not finish (its status is not 'complete')")
    comparison = commands.add_parser("compare", help="draw policy minus baseline per city over time (paired runs)",
                                      description="Pair the runs of BASE and POLICY by (seed, run) and draw, per variable "
                                                  "and city, the mean difference over the pairs with its 5-95%% range; "
                                                  "print the differences at the last step.")
    comparison.add_argument("baseline", metavar="BASE", help="a run file, a sweep (directory or sweep.h5), or a "
                                                             "directory of run files")
    comparison.add_argument("policy", metavar="POLICY", help="the same kinds, with the same seeds and run numbers")
    comparison.add_argument("-o", "--output", default="diff.png", help="figure to write (default: diff.png)")
    comparison.add_argument("--var", action="append", dest="variables", metavar="VAR",
                            help="a variable to compare (repeatable; default: talent, rent, home price, founders, "
                                 "start-ups, births, breakthroughs and fiscal_cost, those the files have)")
    comparison.add_argument("--arm", default=0, help="the arm of a sweep (name or index; default: the first)")
    comparison.add_argument("--allow-incomplete", action="store_true", help="accept files whose run did not finish")
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
        if name == "calibration":
            generator.add_argument("--fit", action="store_true",
                                   help="first re-fit the scenario's calibrated numbers (amenities, cluster "
                                        "preferences) by repeated runs and write them into the scenario file")
            generator.add_argument("--city", metavar="NAME",
                                   help="with --fit: fit this city's amenity alone (a city just added)")
    args = parser.parse_args(argv)
    if args.command == "calibration" and args.city and not args.fit:
        parser.error("--city goes with --fit (it names the city whose amenity to fit)")
    if args.command == "calibration" and args.fit:
        from analysis.calibration import fit
        try:
            amenity, cluster, _ = fit(args.citysim, args.scenario, city=args.city)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"fitted and written into {args.scenario}: amenities "
              + ", ".join(f"{c} {a:+.4f}" for c, a in amenity.items())
              + ("" if args.city else "; cluster preferences " + ", ".join(f"{f} {w:.3g}" for f, w in cluster.items())))
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
        if args.command == "compare":
            arm = int(args.arm) if str(args.arm).isdigit() else args.arm
            rows = compare(args.baseline, args.policy, args.output, variables=args.variables, arm=arm,
                           allow_incomplete=args.allow_incomplete)
            for row in rows:
                print(f"{row['variable']:45s} {row['city']:12s} {row['mean']:+14,.4g}   "
                      f"90% [{row['low']:+,.4g}, {row['high']:+,.4g}]   {row['pairs']} pairs")
            print(f"figure: {args.output}")
            return 0
        count = write_report(args.path, args.output, title=args.title, allow_incomplete=args.allow_incomplete,
                             baseline=args.baseline)
    except (IncompleteOutputError, OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"report: {args.output} ({count} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
