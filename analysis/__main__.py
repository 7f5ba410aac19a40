"""Command line of the analysis package: `python3 -m analysis report PATH -o report.html`,
`python3 -m analysis compare BASE POLICY -o diff.png` and `python3 -m analysis validation`."""
import argparse
import os
import subprocess
import sys

from analysis.compare import compare
from analysis.effects import CitysimNotFound, effect_text
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
    report.add_argument("--citysim", help="the citysim binary that computes the policy-minus-baseline table "
                                          "(default: $CITYSIM_BINARY, build/citysim, or citysim on PATH)")
    report.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    comparison = commands.add_parser("compare", help="draw policy minus baseline per city over time (paired runs)",
                                      description="Pair the runs of BASE and POLICY by (seed, run) and draw, per variable "
                                                  "and city, the mean difference over the pairs with its 90%% interval; "
                                                  "print citysim compare's table of the effects.")
    comparison.add_argument("baseline", metavar="BASE", help="a run file, a sweep (directory or sweep.h5), or a "
                                                             "directory of run files")
    comparison.add_argument("policy", metavar="POLICY", help="the same kinds, with the same seeds and run numbers")
    comparison.add_argument("-o", "--output", default="diff.png", help="figure to write (default: diff.png)")
    comparison.add_argument("--var", action="append", dest="variables", metavar="VAR",
                            help="a variable to compare (repeatable; default: talent, rent, home price, founders, "
                                 "start-ups, births, breakthroughs and fiscal_cost, those the files have)")
    comparison.add_argument("--arm", default=0, help="the arm of a sweep (name or index; default: the first)")
    comparison.add_argument("--allow-incomplete", action="store_true", help="accept files whose run did not finish")
    comparison.add_argument("--citysim", help="the citysim binary that computes the table (default: $CITYSIM_BINARY, "
                                              "build/citysim, or citysim on PATH)")
    why = commands.add_parser(
        "why", help="how likely city A beats city B on an outcome, and how much of the gap each force explains",
        description="Run a scenario as one sweep: R replicates of every combination of swapping the two "
                    "cities' inputs by group (talent mix, housing, incumbents, tolerance of failure, universities, "
                    "venture capital, policies); print P(A > B) with its Wilson interval, each city's chance of "
                    "leading, per-head rates, and each group's Shapley share of the gap. Resumable (run it again); "
                    "prints how many runs it will make and how long they should take.")
    why.add_argument("a", metavar="A", help="the city that won (e.g. hangzhou)")
    why.add_argument("b", metavar="B", help="the city it is compared with (e.g. shenzhen)")
    why.add_argument("--outcome", action="append", choices=["ai_breakthroughs", "breakthroughs", "ai_startups", "startups",
                                                             "talent", "ai_talent", "founders_per_head"],
                     help="ai_breakthroughs (default), breakthroughs, ai_startups, startups, talent, ai_talent or "
                          "founders_per_head; repeat it for more outcomes from the same runs (the first leads)")
    why.add_argument("--scenario", action="append",
                     help="the scenario (default: the China baseline); repeat it to answer on several (the first leads)")
    why.add_argument("--replicates", type=int, default=20, help="random streams, each running every arm (default 20)")
    why.add_argument("--agents", type=int, default=40000, help="talent agents per run (default 40,000)")
    why.add_argument("--steps", type=int, help="steps per run (default: the scenario's)")
    why.add_argument("--out", metavar="DIR", help="sweep directory of a single scenario (default: out/why-A-B-SCENARIO; "
                                                  "reused to resume)")
    why.add_argument("--launcher", help='run the sweep under this command, e.g. "mpiexec -n 4"')
    why.add_argument("--citysim", default="build/citysim", help="the citysim binary (default: build/citysim)")
    why.add_argument("-o", "--output", help="markdown file to write (default: print it)")
    why.add_argument("--figure", help="waterfall figure of the first scenario (PNG; default: beside the markdown, "
                                      "one per scenario, or none)")
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
    hindcast = commands.add_parser("hindcast", help="score the 2015-2023 hindcast against what happened and write "
                                                    "docs/hindcast.md",
                                   description="Run the replicates of the 2015-2023 hindcast with `citysim sweep`, "
                                               "score every target of data/city-history.yaml (hindcast_targets, the "
                                               "NBS price indices) and of data/hindcast-2015.yaml (talent flows), and "
                                               "write the markdown: observed value, model mean and 90% interval, "
                                               "calibrated or held out, verdict.")
    hindcast.add_argument("--citysim", default="build/citysim", help="the citysim binary (default: build/citysim)")
    hindcast.add_argument("--scenario", default="scenarios/hindcast-2015.yaml", help="the hindcast scenario")
    hindcast.add_argument("--sweep", default="scenarios/sweeps/hindcast-2015-seeds.yaml",
                          help="the sweep whose seed and replicates are used (its base is replaced by --scenario)")
    hindcast.add_argument("-o", "--output", help="markdown file to write (default: print it)")
    hindcast.add_argument("--check", action="store_true",
                          help="exit 1 if the data cite an unknown source or fewer than half of the targets are held out "
                               "(a missed target is reported in the table, not failed)")
    hindcast.add_argument("--fit", action="store_true",
                          help="first re-fit the levels of the national credit phases to the calibration targets "
                               "and write them into the scenario file")
    args = parser.parse_args(argv)

    def generated(make):
        """Runs MAKE() -> (markdown, failures): prints the markdown unless -o wrote it, and each failure;
        returns the exit code (2 when it could not run, 1 when a check failed)."""
        try:
            text, failures = make()
        except (OSError, ValueError, subprocess.CalledProcessError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if not args.output:
            print(text)
        for failure in failures:
            print(f"{args.command} failed: {failure}", file=sys.stderr)
        return 1 if failures else 0

    if args.command == "hindcast":
        from analysis.hindcast import fit as fit_hindcast, hindcast as score_hindcast

        def fit_and_score():
            if args.fit:
                levels = fit_hindcast(args.citysim, args.scenario, sweep=args.sweep)
                print(f"fitted and written into {args.scenario}: credit levels "
                      + ", ".join(f"{v:+.3f}" for v in levels))
            return score_hindcast(args.citysim, args.scenario, args.output, args.check, sweep=args.sweep)
        return generated(fit_and_score)
    if args.command == "calibration" and args.city and not args.fit:
        parser.error("--city goes with --fit (it names the city whose amenity to fit)")
    if args.command == "calibration" and args.fit:
        from analysis.calibration import fit
        try:
            amenity, cluster, _ = fit(args.citysim, args.scenario, city=args.city)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        if args.city:
            # A city just added: its amenity is the answer; the baseline's report is another command.
            print(f"fitted and written into {args.scenario}: cities.{args.city}.amenity = {amenity[args.city]!r}")
            return 0
        print(f"fitted and written into {args.scenario}: amenities "
              + ", ".join(f"{c} {a:+.4f}" for c, a in amenity.items())
              + "; cluster preferences " + ", ".join(f"{f} {w:.3g}" for f, w in cluster.items()))
        import yaml
        with open(args.scenario) as f:
            own = yaml.safe_load(f)
        if "fields" not in own or "cities" not in own:
            print("(no calibration report: it reads a complete scenario file, and this one extends another)")
            return 0
    if args.command in generators:
        if args.command == "validation":
            from analysis.validation import validate as generate
        else:
            from analysis.calibration import calibrate as generate
        return generated(lambda: generate(args.citysim, args.scenario, args.output, args.check))
    if args.command == "why":
        from analysis.why import markdown as why_markdown, waterfall, why as run_why
        if args.replicates < 2:
            parser.error("--replicates must be at least 2")
        outcomes = args.outcome or ["ai_breakthroughs"]
        scenarios = args.scenario or ["scenarios/china-2025.yaml"]
        if args.out and len(scenarios) > 1:
            parser.error("--out names the sweep directory of one scenario; leave it out with several")
        answers, figures, written = [], [], []
        try:
            for i, scenario in enumerate(scenarios):
                results = run_why(args.citysim, args.a, args.b, outcomes=outcomes, scenario=scenario,
                                  replicates=args.replicates, agents=args.agents, out_dir=args.out,
                                  launcher=args.launcher, steps=args.steps)
                answers.append((scenario, results))
                stem = os.path.splitext(args.output)[0] if args.output else None
                figure = (args.figure if i == 0 and args.figure else
                          f"{stem}{'' if i == 0 else '-' + os.path.splitext(os.path.basename(scenario))[0]}.png"
                          if stem else None)
                if figure:
                    waterfall(results[0], figure)
                    written.append(figure)
                figures.append(os.path.relpath(figure, os.path.dirname(args.output) or ".")
                               if figure and args.output else figure)
        except (ValueError, OSError, subprocess.CalledProcessError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        command = (f"python3 -m analysis why {args.a} {args.b} " + " ".join(f"--outcome {o}" for o in outcomes)
                   + "".join(f" --scenario {s}" for s in scenarios)
                   + f" --replicates {args.replicates} --agents {args.agents}"
                   + (f" --steps {args.steps}" if args.steps else "")
                   + (f" -o {args.output}" if args.output else ""))
        text = why_markdown(answers, command, figures)
        figure = ", ".join(written)
        if args.output:
            with open(args.output, "w") as f:
                f.write(text)
            print(f"written: {args.output}" + (f", {figure}" if figure else ""))
        else:
            print(text)
        return 0
    try:
        if args.command == "compare":
            arm = int(args.arm) if str(args.arm).isdigit() else args.arm
            # The table is citysim compare's (one result, one place); the figure is drawn here.
            print(effect_text(args.baseline, args.policy, citysim=args.citysim,
                              arm=None if str(arm) == "0" else str(arm), variables=args.variables), end="")
            print(f"drawing {args.output} ...", file=sys.stderr, flush=True)
            compare(args.baseline, args.policy, args.output, variables=args.variables, arm=arm,
                    allow_incomplete=args.allow_incomplete)
            print(f"figure: {args.output}")
            return 0
        count = write_report(args.path, args.output, title=args.title, allow_incomplete=args.allow_incomplete,
                             baseline=args.baseline, citysim=args.citysim, quiet=args.quiet)
    except CitysimNotFound as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (IncompleteOutputError, OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"report: {args.output} ({count} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
