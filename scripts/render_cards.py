"""Render Voice Doctor's cards to PNG files, to LOOK at them: a card that validates can still read badly.

    .venv/bin/python scripts/render_cards.py                # every sample card -> artifacts/cards/*.png
    .venv/bin/python scripts/render_cards.py card.json ...  # given card JSON files, PNG beside each
    .venv/bin/python scripts/render_cards.py --expand       # with "Show …" sections opened

Uses the official Adaptive Cards renderer (npm `adaptivecards` 3, `markdown-it` for Markdown as Teams
does) in headless Chromium (/usr/bin/chromium, or CHROMIUM). Teams-like container colours; CodeBlock is
unknown to this renderer, so its fallback shows, as in the Agents Playground. The npm packages are
looked up in ./node_modules, or in NODE_MODULES.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_TEXT = {"default": {"default": "#242424", "subtle": "#616161"}, "attention": {"default": "#C4314B"},
         "good": {"default": "#237B4B"}, "warning": {"default": "#835C00"}, "accent": {"default": "#5B5FC7"}}  # fmt: skip
HOST_CONFIG = {
    "fontFamily": "Segoe UI, sans-serif",
    "containerStyles": {
        name: {"backgroundColor": colour, "foregroundColors": _TEXT}
        for name, colour in {
            "default": "#FFFFFF",
            "emphasis": "#F5F5F5",
            "accent": "#E8EBFA",
            "good": "#E7F2DA",
            "attention": "#FCF4F6",
            "warning": "#FBF6D9",
        }.items()
    },
}

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{modules}/adaptivecards/dist/adaptivecards.css">
<script src="{modules}/markdown-it/dist/markdown-it.min.js"></script>
<script src="{modules}/adaptivecards/dist/adaptivecards.js"></script>
<style>body{{font-family:'Segoe UI',sans-serif;background:#f5f5f5;margin:8px}}
#card{{width:{width}px;background:#fff;border:1px solid #ddd;border-radius:6px;overflow:hidden}}</style>
</head><body><div id="card"></div><script>
const md = window.markdownit();
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (t, r) => {{ r.outputHtml = md.render(t); r.didProcess = true; }};
const card = new AdaptiveCards.AdaptiveCard();
card.hostConfig = new AdaptiveCards.HostConfig({host_config});
const ctx = new AdaptiveCards.SerializationContext();
card.parse({card}, ctx);
window.renderWarnings = Array.from({{length: ctx.eventCount}}, (_, i) => ctx.getEventAt(i).message);
document.getElementById('card').appendChild(card.render());
if ({expand}) document.querySelectorAll('button').forEach(b => {{ if (b.textContent.startsWith('Show')) b.click(); }});
</script></body></html>"""


def sample_cards() -> dict[str, dict[str, Any]]:
    """One card of each kind, built from the test samples (every cause, the worst case)."""
    from datetime import timedelta

    from bot.diagnosis.evidence import DirectoryUser
    from cards import (
        CardContext,
        CaseSummary,
        ask_8x8_number_card,
        ask_first_sync_card,
        ask_user_card,
        cases_card,
        choose_user_card,
        diagnosis_card,
        help_card,
        helpdesk_report_card,
        progress_card,
        result_card,
        self_report_card,
        welcome_card,
    )
    from tests.unit.test_cards_samples import ALL_CAUSES, NOW, sample, with_playbook, worst_case

    personal = CardContext(now=NOW, case_id="42", can_share_to_helpdesk=True, data_source="demo")
    channel = CardContext(now=NOW, conversation="channel", case_id="42", data_source="demo")
    out: dict[str, dict[str, Any]] = {}
    for problem, cause in ALL_CAUSES:
        name = f"diagnosis-outbound-{cause}" if problem == "outbound-calls" else f"diagnosis-{cause}"
        out[name] = diagnosis_card(with_playbook(sample(problem, cause)), personal)
    out["diagnosis-worst-case"] = diagnosis_card(worst_case(), personal)
    out["diagnosis-worst-case-outbound"] = diagnosis_card(worst_case("outbound-calls"), personal)
    signed_out = sample("inbound-calls", "not-signed-in")
    berlin = CardContext(now=NOW, case_id="42", data_source="demo", time_zone="Europe/Berlin")
    out["self-report-not-signed-in"] = self_report_card(signed_out, berlin, helpdesk_notified=True)
    mismatch = with_playbook(sample("inbound-calls", "number-mismatch"))
    out["result"] = result_card(mismatch, personal)
    out["self-report"] = self_report_card(mismatch, personal, helpdesk_notified=True)
    out["helpdesk-report"] = helpdesk_report_card(
        mismatch, channel, reporter_name="Adele Vance", reporter_id="29:1", assigned_to=None, status="open"
    )
    running = [c if i < 3 else type(c)(c.id, c.title, "pending") for i, c in enumerate(mismatch.checks)]  # type: ignore[arg-type]
    out["progress"] = progress_card("inbound-calls", running, subject_name="Adele Vance", ctx=personal)
    out["welcome"] = welcome_card(personal)
    out["help"] = help_card(personal)
    out["ask-user"] = ask_user_card("inbound-calls", error="No one called 'adele.vanse' was found.")
    people = [DirectoryUser(id=f"{i}", user_principal_name=f"adele{i}@contoso.com", display_name="Adele Vance") for i in range(3)]  # fmt: skip
    out["choose-user"] = choose_user_card("inbound-calls", people)
    out["ask-first-sync"] = ask_first_sync_card("inbound-calls", why="It decides whether Microsoft may still be processing.")  # fmt: skip
    out["ask-8x8-number"] = ask_8x8_number_card(
        "inbound-calls", why="8x8 could not be read: no API key is set."
    )
    cases = [
        CaseSummary(str(i), name, "inbound-calls", "number-mismatch", mismatch.title, status, None, NOW - timedelta(hours=i))
        for i, (name, status) in enumerate([("Adele Vance", "open"), ("Lee Gu", "waiting"), ("Megan Bowen", "resolved")])
    ]  # fmt: skip
    out["cases"] = cases_card(cases, personal)
    return out


async def render(cards: dict[Path, dict[str, Any]], *, modules: Path, expand: bool) -> None:
    from playwright.async_api import async_playwright

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": 760, "height": 400})
        html = cards_dir = None
        for png, card in cards.items():
            width = 700 if card.get("msteams", {}).get("width") == "full" else 460
            cards_dir = png.parent
            html = cards_dir / ".render.html"
            html.write_text(
                PAGE.format(
                    modules=modules.as_uri(),
                    width=width,
                    host_config=json.dumps(HOST_CONFIG),
                    card=json.dumps(card),
                    expand="true" if expand else "false",
                ),
                encoding="utf-8",
            )
            await page.goto(html.as_uri())
            for warning in await page.evaluate("window.renderWarnings"):
                if "CodeBlock" not in warning:
                    print(f"{png.name}: {warning}", file=sys.stderr)
            await page.locator("#card").screenshot(path=str(png))
            print(png)
        await browser.close()
        if html is not None:
            html.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cards", nargs="*", type=Path, help="card JSON files (default: the sample cards)")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "cards")
    parser.add_argument("--expand", action="store_true", help='open the "Show …" sections')
    args = parser.parse_args(argv)

    modules = Path(os.environ.get("NODE_MODULES", ROOT / "node_modules")).resolve()
    if not (modules / "adaptivecards" / "dist" / "adaptivecards.js").exists():
        print(
            f"adaptivecards is not installed in {modules}: run npm install (or set NODE_MODULES).",
            file=sys.stderr,
        )
        return 2
    if args.cards:
        todo = {path.with_suffix(".png"): json.loads(path.read_text(encoding="utf-8")) for path in args.cards}
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        todo = {args.out / f"{name}.png": card for name, card in sample_cards().items()}
    asyncio.run(render(todo, modules=modules, expand=args.expand))
    return 0


if __name__ == "__main__":
    sys.exit(main())
