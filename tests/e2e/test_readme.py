"""test_readme.py - the README's command-line block is `nncc --help`, word for
word: the fenced block that starts with nncc's usage line must equal what
the built nncc prints (so an option added or changed without the README
fails here).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def readme_help_block(text):
    """The lines of the fenced block whose first line starts with 'usage: nncc'."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("usage: nncc") and i > 0 and lines[i - 1].startswith("```"):
            end = lines.index("```", i)
            return lines[i:end]
    return None


def main():
    H.have_nncc_env()
    t = H.Tally()
    with open(README, encoding="utf-8") as f:
        block = readme_help_block(f.read())
    t.check(block is not None, "README.md has a fenced block starting with nncc's usage line")
    p = subprocess.run([H.NNCC, "--help"], capture_output=True, text=True)
    t.check(p.returncode == 0, "nncc --help exits 0 (got %d)" % p.returncode)
    shown = p.stdout.rstrip("\n").splitlines()
    if block is not None and block != shown:
        diff = [(i + 1, a, b) for i, (a, b) in enumerate(zip(block, shown)) if a != b]
        first = diff[0] if diff else (min(len(block), len(shown)) + 1, "(end)", "(end)")
        t.check(False, "README's block differs from nncc --help at line %d:\n  README: %s\n  --help: %s\n"
                "(%d lines against %d)" % (first[0], first[1], first[2], len(block), len(shown)))
    t.finish()


if __name__ == "__main__":
    main()
