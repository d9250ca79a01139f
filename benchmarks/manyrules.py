"""The many-rule policy of the reliability review (issue 10, item 6): rule i fires when
`a > i`, for i = 0 .. n-1, each for one of a few levels. `a` is the bundled sample's A&E
4-hour percentage, so the policy runs on the sample as `regime eval` does by default.

    python benchmarks/manyrules.py 2000 > /tmp/rules2000.yaml
"""

from __future__ import annotations

import sys

LEVELS = ("ok", "watch", "concern", "serious")


def policy_text(n: int, distinct: bool = False) -> str:
    """The policy of n rules; `distinct` gives every rule its own threshold (hundredths of a
    point: no two rules are the same expression, so none is shared), else thresholds repeat
    every 100 rules as the review wrote them."""
    lines = [f"policy: rules{n}", f'title: "{n} rules of the form a > i"', 'version: "1"',
             "entity: trust", "period: quarter", "levels:"]
    lines += [f"  - {{id: {lv}}}" for lv in LEVELS]
    lines += ["default: ok", "decide: worst", "inputs:", "  ae_4hr_pct: {type: percent}",
              "define:", "  a: ae_4hr_pct", "rules:"]
    for i in range(n):
        level = LEVELS[1 + i % (len(LEVELS) - 1)]
        threshold = f"{i * 100 / n:.2f}" if distinct else f"{i % 100}"
        lines.append(f"  - {{id: r{i}, level: {level}, when: 'a > {threshold}'}}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(policy_text(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
