"""Analysis of citysim output: load runs and sweeps (`load`), draw figures (`figures`, `curves`,
`sensitivity`, `animate`), policy minus baseline over paired runs (`compare`; also
`python3 -m analysis compare BASE POLICY -o diff.png`), and write a self-contained HTML report
(`report`; also `python3 -m analysis report PATH -o report.html [--baseline BASE]`)."""
