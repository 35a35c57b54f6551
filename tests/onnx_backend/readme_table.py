#!/usr/bin/env python3
"""readme_table.py REPORT - the per-operator pass counts of an
onnx_backend_report.md (written by run.py) as the compact Markdown table in
README.md's 'Conformance by operator' section: operators with at least one
passing case as `Op passed/cases`, four to a row, then the operators whose
cases are all refused."""
import re
import sys


def main():
    rows = []
    for line in open(sys.argv[1]):
        m = re.match(r"^\| (\w+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), int(m.group(3))))
    ok = [r for r in rows if r[2] > 0]
    none = [r[0] for r in rows if r[2] == 0]
    print("| | | | |\n|---|---|---|---|")
    for i in range(0, len(ok), 4):
        cells = ["%s %d/%d" % r for r in ok[i:i + 4]]
        print("| " + " | ".join(cells + [""] * (4 - len(cells))) + " |")
    print("\nNo case passes yet (refused as unsupported): " + ", ".join(none) + ".")


if __name__ == "__main__":
    main()
