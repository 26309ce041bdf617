"""Commands that measure and list: eval, methods."""

from __future__ import annotations

from pathlib import Path

import typer

from cadenza.cli.app import app
from cadenza.sampling import METHODS, is_stochastic


@app.command("eval")
def eval_(
    generated: Path = typer.Argument(..., help="Folder of generated audio (searched recursively)."),
    reference: Path = typer.Argument(..., help="Folder of reference audio (searched recursively)."),
    train: Path = typer.Option(None, help="Training audio: adds copy (memorisation) detection."),
    embedder: str = typer.Option("mel_stats", help="Embedding for FAD / KID: mel_stats, "
                                 "classifier (the pitch classifier's), or the path of a "
                                 "torch.export program (.pt2) or TorchScript file (.pt) of "
                                 "VGGish, PANNs, CLAP, ... (never downloaded)."),
    embedder_rate: int = typer.Option(16000, help="Sample rate an embedder file (.pt2, .pt) "
                                                  "expects."),
    out: Path = typer.Option(Path("cadenza-eval"), help="Folder for metrics.json and report.html."),
    seconds: float = typer.Option(4.0, help="Clip length: files are cut into clips this long."),
    rate: int = typer.Option(16000, help="Sample rate the audio is resampled to."),
    seed: int = typer.Option(0, help="Seed of the bootstrap and subset draws."),
    classifiers: bool = typer.Option(True, help="PIS, IIS, PKID, IKID with the shipped "
                                                "pitch and instrument classifiers."),
    floor: str = typer.Option("auto", help="Held-out real audio scored like the generated "
                              "audio, beside white noise: the best and worst a model can do. "
                              "A folder; auto: the corpus's other held-out splits when "
                              "REFERENCE is a `cadenza data piano` split; none."),
) -> None:
    """Measure generated audio against reference audio.

    C2ST, FAD, FAD-inf, KID, KS, PIS, IIS, copies, each with its caveats, and floors; writes
    metrics.json and an HTML report."""
    from cadenza.evaluate import evaluate
    from cadenza.metrics.embedders import ThirdPartyModelError

    try:
        result = evaluate(generated, reference, train_dir=train, embedder=embedder,
                          sample_rate=rate, clip_seconds=seconds, out_dir=out, seed=seed,
                          classifiers=classifiers, embedder_rate=embedder_rate,
                          floors=floor)
    except ThirdPartyModelError as error:
        raise ValueError(str(error)) from None
    for line in eval_lines(result, classifiers):
        typer.echo(line)


def _kernel(name: str, entry: dict) -> str:
    """KID / PKID / IKID: n/a with what it needs, or the value with its spread or caveat."""
    if "unavailable" in entry:
        return f"{name} n/a ({entry['unavailable']})"
    if "caveat" in entry:
        return f"{name} {entry['mean']:.4g} ({entry['caveat']})"
    return (f"{name} {entry['mean']:.4g} +- {entry['std']:.2g} ({entry['subsets']} subsets of "
            f"{entry['subset_size']})")


def _score(name: str, entry: dict) -> str:
    """PIS / IIS: n/a with what it needs, or the score (with a spread from two splits on)."""
    if "unavailable" in entry:
        return f"{name} n/a ({entry['unavailable']})"
    spread = "" if "caveat" in entry else f" +- {entry['std']:.2g}"
    about = entry.get("caveat") or f"{entry['splits']} splits"
    return f"{name} {entry['mean']:.3g}{spread} (reference {entry['reference_mean']:.3g}; {about})"


def eval_lines(result: dict, classifiers: bool = True) -> list[str]:
    """What ``cadenza eval`` prints: each number with its caveat, floors, warnings."""
    sets = result["sets"]
    lines = ["; ".join(f"{name}: {s['clips']} clips from {s['files']} files"
                       + (f" ({len(s['skipped'])} skipped)" if s["skipped"] else "")
                       for name, s in sets.items())]
    lines += [f"  skipped ({name}) {item['path']}: {item['reason']}"
              for name, s in sets.items() for item in s["skipped"]]
    lines += [f"warning: {text}" for text in result.get("warnings", [])]
    fad, inf, ks, two = result["fad"], result["fad_infinity"], result["ks"], result["c2st"]
    lines.append(f"C2ST n/a ({two['unavailable']})" if "unavailable" in two else
                 f"C2ST accuracy {two['accuracy']:.3f} (95% CI {two['ci_low']:.3f} to "
                 f"{two['ci_high']:.3f}, {two['clips']} clips; 0.5 = indistinguishable)")
    fine = result.get("c2st_fine")
    if fine and "unavailable" not in fine:
        lines.append(f"  at 160 mel bands {fine['accuracy']:.3f} (95% CI {fine['ci_low']:.3f} "
                     f"to {fine['ci_high']:.3f}; also hears a 64-band mel decoder's detail)")
    lines.append(f"FAD {fad['value']:.4g} (95% CI {fad['ci_low']:.4g} to {fad['ci_high']:.4g})")
    if "caveat" in fad:
        lines.append(f"  caveat: {fad['caveat']}")
    if "unavailable" in inf:
        lines.append(f"FAD-inf n/a ({inf['unavailable']})")
    elif inf["withheld"]:
        lines.append(f"FAD-inf withheld: {inf['withheld']}")
    else:
        lines.append(f"FAD-inf {inf['value']:.4g} (fit of FAD = FAD-inf + b/n: r2 "
                     f"{inf['r2']:.3f} >= {inf['r2_min']:.3f}, b {inf['slope']:+.3g})")
    lines.append(_kernel("KID", result["kid"]))
    lines.append("KS D: " + ", ".join(
        f"{name} {'n/a' if ks[name] is None else format(ks[name], '.3f')}" for name in ks))
    if result["pis"] is not None or result["iis"] is not None:
        lines += [_score(key.upper(), result[key]) for key in ("pis", "iis")
                  if result[key] is not None]
        lines += [_kernel(key.upper(), result[key]) for key in ("pkid", "ikid")
                  if result[key] is not None]
    elif classifiers:
        lines.append(f"classifiers not used: {result['classifiers']['unavailable']}")
    floors = result.get("floors")
    if floors:
        lines.append("floors (same embedder and reference, at most as many clips as "
                     "generated): " + "; ".join(
                         f"{row['set']} ({row.get('caveat') or str(row['clips']) + ' clips'})"
                         " FAD " + ("n/a" if row["fad"] is None else f"{row['fad']:.4g}")
                         + ", KID " + ("n/a" if row["kid"] is None else f"{row['kid']:.4g}")
                         for row in floors))
    else:
        lines.append("floors: none here (--floor DIR: held-out real audio); the piano "
                     "corpus's are in benchmarks/RESULTS.md, 'Metric floors'")
    copies = result["copies"]
    if copies:
        lines.append(f"copies: generated p95 {copies['generated_nn_p95']:.3f} vs train p95 "
                     f"{copies['train_nn_p95']:.3f} (gap {copies['gap']:+.3f}); "
                     f"{copies['pairs_above_0.90']} clips above 0.90")
    lines.append(f"metrics: {result['files']['metrics']}")
    lines.append(f"report: {result['files']['report']}")
    return lines


@app.command()
def methods() -> None:
    """List the samplers."""
    for name in METHODS:
        typer.echo(f"{name} (stochastic)" if is_stochastic(name) else name)


@app.command()
def info(
    model: str = typer.Argument(None, help="A model folder or a shipped model's name (default: "
                                           "the shipped piano, tiny-piano-mel)."),
) -> None:
    """What a model is: its audio, network, data, defaults (sampler, steps, editing strategy)
    and, for a shipped model, what was measured of it."""
    from cadenza.cards import model_card
    from cadenza.pipeline import load, model_folder

    folder = model_folder(model)
    load(folder)  # a wrong or damaged folder is its one-line error, as for every command
    typer.echo(model_card(folder.name, folder))
