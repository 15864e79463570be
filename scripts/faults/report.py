"""What a fault scenario hands back: the checker's verdict, the facts of the run (kills, outage
length, rates) and any other failed check (e.g. a corrupt outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scripts.faults.checker import Verdict


@dataclass(frozen=True)
class FaultReport:
    """One scenario run; ``ok`` when nothing was lost or stored twice and no check failed."""

    scenario: str
    verdict: Verdict
    facts: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """0 lost, 0 duplicated and no failed check."""
        return self.verdict.ok and not self.problems

    def format(self) -> str:
        """The facts as ``key=value``, the per-device table, then any problem."""
        facts = " ".join(f"{key}={value}" for key, value in self.facts.items())
        lines = [f"scenario={self.scenario} {facts}".rstrip(), self.verdict.format_table()]
        lines += [f"PROBLEM: {problem}" for problem in self.problems]
        return "\n".join(lines)


def print_report(report: FaultReport) -> int:
    """Print the report; the exit status (0 when ``ok``, else 1)."""
    print(report.format(), flush=True)
    return 0 if report.ok else 1
