"""The whole tenant at once (`python -m bot sweep`, "check everyone", the watch).

- `bot.diagnosis.sweep.sweeper`: `Sweeper.sweep()` reads every user, number, 8x8 account and the
  period's call log in bulk and decides about each person with the diagnosis's own rules;
- `bot.diagnosis.sweep.tenant` and `.calls`: the compact maps and the call counts it reads into;
- `bot.diagnosis.sweep.report`: the findings, as DESIGN.md's JSON and as CSV;
- `bot.diagnosis.sweep.scope`: a sweep limited to a group or place ("everyone in Sales").
"""

from bot.diagnosis.sweep.report import Finding, SweepReport, SweepSubject, cause_title, sweep_todo
from bot.diagnosis.sweep.scope import ScopeAmbiguous, ScopeNotFound, SweepScope
from bot.diagnosis.sweep.sweeper import Sweeper, SweepLimits, SweepProgress, SweepResult

__all__ = [
    "Finding",
    "ScopeAmbiguous",
    "ScopeNotFound",
    "SweepLimits",
    "SweepProgress",
    "SweepReport",
    "SweepResult",
    "SweepScope",
    "SweepSubject",
    "Sweeper",
    "cause_title",
    "sweep_todo",
]
