"""A model's card: what it is, what it was trained on, its defaults and what was measured of it.

The same text for ``cadenza info`` and the web app's model menu; read from the folder's files
only (nothing is loaded).
"""

from __future__ import annotations

from pathlib import Path

from cadenza import plan as plans
from cadenza.checkpoint import read_json
from cadenza.pipeline import SHIPPED


def model_card(name: str, folder: Path) -> str:
    """Markdown: what the model is, what it was trained on, its default plan and, for a
    shipped model (or a folder with a README.md), what was measured of it."""
    meta = read_json(folder / "pipeline.json")
    describe = meta.get("describe", {})
    preset = describe.get("preset", {})
    data = describe.get("data", {})
    rep, network, objective = meta["representation"], meta["network"], meta["objective"]
    lines = [f"**{name}**" + (f": {preset['description']}" if preset.get("description") else ""),
             "",
             f"- audio: {rep['sample_rate']} Hz, {meta.get('channels', 1)} channel(s), "
             f"{rep['kind']} representation",
             f"- network: {network['name']}; objective: {objective['name']}",
             f"- sampling defaults: {meta.get('sampler', plans.SAMPLER)}, "
             f"{meta.get('steps', plans.STEPS)} steps, "
             f"{meta.get('schedule', plans.SCHEDULE)} schedule",
             f"- editing strategy (extend, inpaint, outpaint): "
             f"{meta.get('edit_strategy', plans.EDIT_STRATEGY)}"]
    if data.get("hours"):
        lines.append(f"- trained on {data['hours']:.1f} hours of audio "
                     f"({data.get('recordings', '?')} recordings)")
    if meta.get("loudness") is not None:
        lines.append(f"- generated audio is brought to {meta['loudness']:.1f} LUFS "
                     "(its corpus's median)")
    quality = _measured(name, folder)
    if quality:
        lines += ["", quality]
    return "\n".join(lines)


def _measured(name: str, folder: Path) -> str:
    """The measured quality: the shipped models' README row and verdict, or a folder's own
    README.md (first paragraph)."""
    if name in SHIPPED:
        text = (folder.parent / "README.md").read_text(encoding="utf-8")
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}/`")), "")
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        verdict = next((part for part in text.split("\n\n")
                        if part.startswith("What they sound like")), "")
        return "\n\n".join(part for part in (cells[2] if len(cells) > 2 else "",
                                             " ".join(verdict.split())) if part)
    readme = folder / "README.md"
    if readme.exists():
        return readme.read_text(encoding="utf-8").strip().split("\n\n")[0]
    return ""
