"""Analysis of citysim output: load runs and sweeps (`load`), draw figures (`figures`, `curves`,
`sensitivity`, `animate`), and write a self-contained HTML report (`report`; also
`python3 -m analysis report PATH -o report.html`)."""
