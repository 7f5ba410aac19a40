"""Progress of the analysis commands on stderr: a line that redraws itself on a terminal, a line per
step in a log, nothing when quiet. Results (file names, tables) go to stdout, as in citysim itself."""
import sys
import time


class Progress:
    def __init__(self, what, total, quiet=False, stream=None):
        self.what, self.total, self.quiet = what, total, quiet
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.done = 0
        self.start = time.monotonic()

    def step(self, label):
        """One more step done or begun: LABEL says what it is."""
        self.done += 1
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        text = f"{self.what}: {min(self.done, self.total)}/{self.total} {label} ({elapsed:.0f} s)"
        if self.terminal:
            self.stream.write("\r" + text[:110].ljust(110))
        elif self.total <= 20 or self.done == self.total or self.done % -(-self.total // 10) == 0:
            self.stream.write(text + "\n")  # a log gets every step of a short job, else one line in ten
        self.stream.flush()

    def finish(self):
        if not self.quiet and self.terminal:
            self.stream.write("\n")
            self.stream.flush()
