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
) -> None:
    """Measure generated audio against reference audio: FAD, KID, KS, PIS, IIS, copies; an HTML
    report."""
    from cadenza.evaluate import evaluate
    from cadenza.metrics.embedders import ThirdPartyModelError

    try:
        result = evaluate(generated, reference, train_dir=train, embedder=embedder,
                          sample_rate=rate, clip_seconds=seconds, out_dir=out, seed=seed,
                          classifiers=classifiers, embedder_rate=embedder_rate)
    except ThirdPartyModelError as error:
        raise ValueError(str(error)) from None
    sets = result["sets"]
    typer.echo("; ".join(f"{name}: {s['clips']} clips from {s['files']} files"
                         + (f" ({len(s['skipped'])} skipped)" if s["skipped"] else "")
                         for name, s in sets.items()))
    for name, s in sets.items():
        for item in s["skipped"]:
            typer.echo(f"  skipped ({name}) {item['path']}: {item['reason']}")
    fad, inf, kid, ks = result["fad"], result["fad_infinity"], result["kid"], result["ks"]
    two = result["c2st"]
    typer.echo(f"C2ST: {two['unavailable']}" if "unavailable" in two else
               f"C2ST accuracy {two['accuracy']:.3f} (95% CI {two['ci_low']:.3f} to "
               f"{two['ci_high']:.3f}, {two['clips']} clips; 0.5 = indistinguishable)")
    typer.echo(f"FAD {fad['value']:.4g} (95% CI {fad['ci_low']:.4g} to {fad['ci_high']:.4g})"
               + (f", FAD-inf {inf['value']:.4g} (r2 {inf['r2']:.3f})" if inf else ""))
    typer.echo(f"KID {kid['mean']:.4g} +- {kid['std']:.2g} ({kid['subsets']} subsets of "
               f"{kid['subset_size']})")
    typer.echo("KS D: " + ", ".join(
        f"{name} {'n/a' if ks[name] is None else format(ks[name], '.3f')}" for name in ks))
    if result["pis"] is not None or result["iis"] is not None:
        typer.echo(", ".join(
            f"{key.upper()} {result[key]['mean']:.3g} +- {result[key]['std']:.2g}"
            + (f" (reference {result[key]['reference_mean']:.3g})" if "reference_mean" in
               result[key] else "")
            for key in ("pis", "iis", "pkid", "ikid") if result[key] is not None))
    elif classifiers:
        typer.echo(f"classifiers not used: {result['classifiers']['unavailable']}")
    copies = result["copies"]
    if copies:
        typer.echo(f"copies: generated p95 {copies['generated_nn_p95']:.3f} vs train p95 "
                   f"{copies['train_nn_p95']:.3f} (gap {copies['gap']:+.3f}); "
                   f"{copies['pairs_above_0.90']} clips above 0.90")
    typer.echo(f"metrics: {result['files']['metrics']}")
    typer.echo(f"report: {result['files']['report']}")


@app.command()
def methods() -> None:
    """List the samplers."""
    for name in METHODS:
        typer.echo(f"{name} (stochastic)" if is_stochastic(name) else name)
