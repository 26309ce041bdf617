"""The HTML page of ``cadenza eval``: summary tables, figures, and the clips worth hearing.

``write_report`` turns an ``Evaluation`` (``cadenza.measure``) and the metrics that
``cadenza.evaluate`` writes to ``metrics.json`` into one self-contained page
(``cadenza.report``: figures and audio inlined, so it opens from disk).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cadenza.measure import (
    CLASSIFIER_METRICS,
    COPY_LISTEN_THRESHOLD,
    KID_MIN_CLIPS,
    LISTEN_CLIPS,
    Evaluation,
)
from cadenza.report import Report

LISTEN_PAIRS = 5  # copy-detection pairs played in the report, at most


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if 10**digits <= abs(value) < 1e7:  # 80310, not 8.031e+04
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _fad_figure(fit, withheld: str | None):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.5))
    axes = figure.subplots()
    inverse = 1.0 / fit.sizes
    axes.plot(inverse, fit.fads, "o", label="mean FAD of subsets")
    line = np.linspace(0, inverse.max(), 50)
    axes.plot(line, fit.value + fit.slope * line, "-",
              label=f"fit: {fit.value:.3g} + {fit.slope:.3g}/n\n(r² {fit.r2:.3f})")
    axes.plot([0], [fit.value], "s", color="C3",
              label="intercept: FAD-∞ withheld" if withheld else f"FAD-∞ = {fit.value:.3g}")
    axes.set_xlabel("1 / n (n: generated clips in the subset)")
    axes.set_ylabel("FAD")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))  # outside the data
    return figure


def _histogram_figure(series: dict[str, np.ndarray], xlabel: str, marks: dict[str, float]):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.5))
    axes = figure.subplots()
    values = [v for v in series.values() if v.size]
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    bins = np.linspace(low, high if high > low else low + 1e-6, 30)
    for label, data in series.items():
        if data.size:  # each set's bars sum to 1, whatever its size
            axes.hist(data, bins=bins, alpha=0.55, weights=np.full(data.size, 1 / data.size),
                      label=label)
    for label, x in marks.items():
        axes.axvline(x, color="k", linestyle="--", linewidth=1)
        axes.annotate(label, (x, 0.95), xycoords=("data", "axes fraction"), fontsize=8,
                      rotation=90, ha="right", va="top")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("share of the set's clips")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))  # outside the data
    return figure


def _label(target: str, label: str) -> str:
    """Pitch labels are MIDI numbers: show the note name too."""
    if target == "pitch" and label.isdigit():
        import librosa

        return f"{librosa.midi_to_note(int(label), unicode=False)} ({label})"
    return label


def _kernel_row(name: str, entry: dict, what: str) -> dict:
    """A KID-like row: n/a with what it needs, or the value with its spread or caveat."""
    if "unavailable" in entry:
        return {"metric": name, "value": f"n/a (needs {entry['needs']} clips)",
                "detail": f"{what}: {entry['unavailable']}"}
    spread = entry.get("caveat") or (f"± over {entry['subsets']} subsets of "
                                      f"{entry['subset_size']}")
    value = f"{entry['mean']:.3g}" + ("" if "caveat" in entry else f" ± {entry['std']:.2g}")
    return {"metric": name, "value": value,
            "detail": f"{what} (IMQ kernel C = {entry['c']:g}; {spread}); 0 for one "
                      "distribution, may be slightly negative"}


def _classifier_rows(metrics: dict) -> list[dict]:
    """Summary rows for PIS, IIS, PKID and IKID (one row saying why, when unavailable)."""
    about = metrics["classifiers"] or {}
    if "unavailable" in about:
        return [{"metric": "PIS, IIS, PKID, IKID", "value": "—",
                 "detail": f"classifiers not used: {about['unavailable']}"}]
    rows = []
    for target, (score_key, kernel_key) in CLASSIFIER_METRICS.items():
        score, kernel = metrics.get(score_key), metrics.get(kernel_key)
        if score is None or kernel is None:
            continue
        what = f"inception score of the {target} classifier's probabilities"
        if "unavailable" in score:
            rows.append({"metric": score_key.upper(),
                         "value": f"n/a (needs {score['needs']} clips)",
                         "detail": f"{what}: {score['unavailable']}"})
        else:
            spread = score.get("caveat") or f"± over {score['splits']} splits"
            rows.append({"metric": score_key.upper(), "value": f"{score['mean']:.3f}" + (
                "" if "caveat" in score else f" ± {score['std']:.2g}"),
                "detail": f"{what} (1 to {score['classes']}; {spread}); the reference set "
                          f"scores {score['reference_mean']:.3f}"})
        rows.append(_kernel_row(kernel_key.upper(), kernel,
                                f"KID on the {target} classifier's embeddings"))
    return rows


def _fad_rows(fad: dict, inf: dict) -> list[dict]:
    rows = [{"metric": "FAD", "value": _fmt(fad["value"]),
             "detail": f"bootstrap {fad['level']:.0%} interval [{_fmt(fad['ci_low'])}, "
                       f"{_fmt(fad['ci_high'])}] ({fad['resamples']} resamples, "
                       "bias-corrected); lower is closer"
                       + (f". Caveat: {fad['caveat']}" if "caveat" in fad else "")}]
    if "unavailable" in inf:
        rows.append({"metric": "FAD-∞", "value": f"n/a (needs {inf['needs']} clips)",
                     "detail": inf["unavailable"]})
    elif inf["withheld"]:
        rows.append({"metric": "FAD-∞", "value": "withheld",
                     "detail": f"the fit FAD = FAD-∞ + b/n is too poor to extrapolate: "
                               f"{inf['withheld']}"})
    else:
        rows.append({"metric": "FAD-∞", "value": _fmt(inf["value"]),
                     "detail": f"intercept of FAD = FAD-∞ + b/n over {len(inf['sizes'])} "
                               f"subset sizes: r² {inf['r2']:.3f} (at least {inf['r2_min']:.3f}"
                               f" needed), b {inf['slope']:+.3g} (must be positive)"})
    return rows


def _floors(report: Report, metrics: dict) -> None:
    report.heading("Floors: what the best and a worthless model score here")
    floors = metrics.get("floors")
    if not floors:
        report.paragraph(
            "No floor set here: pass --floor with held-out real audio (a reference that is a "
            "`cadenza data piano` split finds its corpus's other held-out splits itself). "
            "benchmarks/RESULTS.md, 'Metric floors', has the piano corpus's.")
        return
    report.paragraph(
        "FAD and KID of real audio no model saw (held-out splits) and of white noise at the "
        "generated clips' RMS, against the same reference with the same embedder, each with "
        "at most as many clips as the generated set (FAD's bias grows as clips get fewer). A "
        "generated set near the held-out rows is as close as real music gets.")
    fad, kernel = metrics["fad"], metrics["kid"]
    rows = [{"set": "generated (this evaluation)", "clips": metrics["sets"]["generated"]["clips"],
             "FAD": _fmt(fad["value"]), "KID": _fmt(kernel.get("mean")), "caveat": ""}]
    rows += [{"set": row["set"], "clips": row["clips"], "FAD": _fmt(row["fad"]),
              "KID": _fmt(row["kid"]) if row["kid"] is not None else
              f"n/a (needs {KID_MIN_CLIPS} clips)", "caveat": row.get("caveat", "")}
             for row in floors]
    report.table(rows)


def _copy_row(summary: dict) -> dict:
    """Copy detection's summary with column names a reader can follow."""
    names = {"generated": "generated clips", "train": "training clips", "gap": "gap"}
    row = {}
    for key, value in summary.items():
        if key.startswith("generated_nn_p"):
            name = f"generated → train, p{key.removeprefix('generated_nn_p')}"
        elif key.startswith("train_nn_p"):
            name = f"train → train, p{key.removeprefix('train_nn_p')}"
        elif key.startswith("pairs_above_"):
            name = f"clips ≥ {key.removeprefix('pairs_above_')}"
        else:
            name = names.get(key, key)
        row[name] = _fmt(value) if isinstance(value, float) else value
    return row


def write_report(evaluation: Evaluation, metrics: dict, path: str | os.PathLike) -> Path:
    """The HTML page: summary tables, figures, and players for the clips worth hearing."""
    generated, reference, train = evaluation.generated, evaluation.reference, evaluation.train
    rate = generated.sample_rate
    report = Report("cadenza eval")
    config = metrics["config"]
    report.paragraph(
        f"Generated: {config['generated_dir']}; reference: {config['reference_dir']}"
        + (f"; training set (copy detection): {config['train_dir']}"
           if config["train_dir"] else "")
        + f". Mono clips of {config['clip_seconds']:g} s at {config['sample_rate']} Hz; "
        f"embedder {metrics['embedder']}; seed {config['seed']}; cadenza {metrics['cadenza']}, "
        f"{metrics['created']}.")
    for text in metrics.get("warnings", []):
        report.note(f"Warning: {text}")
    report.heading("The sets")
    report.paragraph("The audio compared: files read, clips cut from them, their total length "
                     "and the files' own sample rates (before resampling), and files skipped.")
    audio = metrics.get("audio", {})
    report.table([{"set": name, "files": s["files"], "clips": s["clips"],
                   "seconds of audio": f"{s['seconds']:.1f}",
                   "files' sample rates (Hz)": ", ".join(s.get("native_rates", {})) or "—",
                   "bandwidth (Hz)": (f"{audio[name]['bandwidth_hz']:.0f}" if name in audio
                                      else "—"),
                   "skipped files": len(s["skipped"])}
                  for name, s in metrics["sets"].items()])
    if audio:
        report.paragraph(f"Bandwidth: the frequency below which "
                         f"{next(iter(audio.values()))['bandwidth_fraction']:.0%} of a set's "
                         "power lies, at the common sample rate.")

    report.heading("Summary")
    report.paragraph("Each metric, its value and what it means; n/a where a set holds fewer "
                     "clips than the metric needs, with its caveat where few clips make it "
                     "shaky.")
    fad, inf, kd, ks = metrics["fad"], metrics["fad_infinity"], metrics["kid"], metrics["ks"]
    rows = [
        *_fad_rows(fad, inf),
        _kernel_row("KID", kd, "unbiased MMD² of the embeddings"),
        *({"metric": f"KS D, {name}", "value": _fmt(ks[name]),
           "detail": {"rms": "per-frame RMS", "centroid": "per-frame spectral centroid",
                      "f0": "per-frame f0 (YIN, frames within 40 dB of the clip's peak)",
                      "samples": "raw sample values, each clip at -20 dBFS"}[name]
           + "; 0 = same distribution, 1 = disjoint"}
          for name in ("rms", "centroid", "f0", "samples")),
    ]
    fine = metrics.get("c2st_fine")
    if fine and "unavailable" not in fine:
        rows.insert(0, {
            "metric": "C2ST accuracy, 160 mel bands",
            "value": f"{fine['accuracy']:.3f}",
            "detail": f"{fine['confidence']:.0%} interval [{fine['ci_low']:.3f}, "
                      f"{fine['ci_high']:.3f}]; the same test reading finer bands (a longer "
                      "window): it also hears the detail a 64-band mel model's decoder invents"})
    two = metrics["c2st"]
    rows.insert(0, {
        "metric": "C2ST accuracy",
        "value": (f"n/a (needs {two['needs']} clips)" if "unavailable" in two
                  else f"{two['accuracy']:.3f}"),
        "detail": two.get("unavailable") or (
            f"{two['confidence']:.0%} interval [{two['ci_low']:.3f}, {two['ci_high']:.3f}] over "
            f"{two['clips']} held-out clips; a log-mel CNN telling generated from reference "
            f"clips{' (each levelled to one RMS)' if two['levelled'] else ''}: 0.5 = "
            f"indistinguishable, 1.0 = always told apart; held-out cross-entropy "
            f"{two['log_loss_bits']:.2f} bits (1 at chance)")})
    rows += _classifier_rows(metrics)
    near = metrics["nearest_reference"]
    rows.append({"metric": "nearest-reference distance (median)",
                 "value": _fmt(near["generated_median"]),
                 "detail": "standardised embedding distance of each generated clip to its "
                           "nearest reference clip; reference to reference: "
                           f"{_fmt(near['reference_median'])}"})
    if metrics["copies"]:
        c = metrics["copies"]
        rows.append({"metric": "copy gap", "value": _fmt(c["gap"]),
                     "detail": f"p95 of generated→train nearest similarity "
                               f"{_fmt(c['generated_nn_p95'])} minus train→train "
                               f"{_fmt(c['train_nn_p95'])}; above 0 suggests copying"})
    report.table(rows, ["metric", "value", "detail"])
    _floors(report, metrics)

    skipped = [{"set": name, "file": item["path"], "reason": item["reason"]}
               for name, s in metrics["sets"].items() for item in s["skipped"]]
    if skipped:
        report.heading("Skipped files")
        report.paragraph("Files under the folders that gave no clip, and why.")
        report.table(skipped)

    if metrics["classifiers"] and "unavailable" not in metrics["classifiers"]:
        report.heading("Classifiers")
        report.paragraph(
            "cadenza's pitch and instrument classifiers (small log-mel CNNs trained on single "
            "notes, cadenza.metrics.classifier) give each clip class probabilities (averaged "
            "over 1 s windows) and an embedding (their penultimate layer). Share: the mean "
            "probability of each class over a set; an inception score is high when each clip "
            "is classified confidently and the shares are even.")
        for target, about in metrics["classifiers"].items():
            accuracy = about["validation_accuracy"]
            report.paragraph(f"{target} classifier ({len(about['labels'])} classes"
                             + (f", validation accuracy {accuracy:.1%} on held-out notes"
                                if accuracy is not None else "") + f"): {about['embedder']}")
            report.table([
                {target: _label(target, label), "generated share": f"{g:.3f}",
                 "reference share": f"{r:.3f}"}
                for label, g, r in zip(about["labels"], about["generated_shares"],
                                       about["reference_shares"], strict=True)])

    if evaluation.fad_fit is not None:
        report.heading("FAD against 1/n")
        withheld = inf.get("withheld")
        report.figure(_fad_figure(evaluation.fad_fit, withheld),
                      "FAD of random subsets of the generated clips against all reference "
                      "clips; the intercept at 1/n = 0 is FAD-∞"
                      + (f", withheld here: {withheld}." if withheld else "."))

    report.heading("Nearest reference clips")
    nearest = evaluation.nearest
    report.figure(_histogram_figure(
        {"generated → nearest reference": nearest["distance"],
         "reference → nearest other reference": nearest["reference_distance"]},
        "standardised embedding distance", {}),
        "A generated set like the reference sits on the reference's own distribution.")
    order = np.argsort(nearest["distance"], kind="stable")
    for title, indices, which in (
            ("Closest to the reference", order[:LISTEN_CLIPS], "smallest"),
            ("Furthest from the reference", order[::-1][:LISTEN_CLIPS], "largest")):
        report.heading(title)
        report.paragraph(f"The generated clips with the {which} distance (in the embedding) "
                         "to their nearest reference clip, which each caption names.")
        for i in indices:
            j = int(nearest["index"][i])
            report.audio(generated.clips[i][None], rate,
                         f"generated {generated.label(int(i))}: distance "
                         f"{nearest['distance'][i]:.3g} to {reference.label(j)}")

    copies = evaluation.copies
    if copies is not None and train is not None:
        report.heading("Copy detection")
        c = metrics["copies"]
        report.paragraph(
            f"Each clip is embedded in windows of {c['window_seconds']:g} s (hop "
            f"{c['hop_seconds']:g} s) with {c['embedder']}; a pair's similarity is the best "
            "cosine over window pairs. Generated clips far more similar to a training clip "
            "than training clips are to each other suggest copying.")
        report.paragraph("Nearest-neighbour cosine similarity (1 = identical windows): its "
                         "95th percentile for generated clips against training clips and for "
                         "training clips against each other, their gap, and how many "
                         "generated clips reach each threshold.")
        report.table([_copy_row(copies.summary())])
        report.figure(_histogram_figure(
            {"generated → nearest train": copies.generated_nn,
             "train → nearest other train": copies.train_nn},
            "cosine similarity", {f"{COPY_LISTEN_THRESHOLD:.2f}": COPY_LISTEN_THRESHOLD}),
            "Nearest-neighbour similarity; pairs above the dashed line are worth a listen.")
        pairs = copies.pairs.get(COPY_LISTEN_THRESHOLD, [])
        if pairs:
            report.paragraph(f"{len(pairs)} generated clips reach {COPY_LISTEN_THRESHOLD:.2f}; "
                             f"the strongest {min(len(pairs), LISTEN_PAIRS)}:")
        else:
            report.paragraph(f"No generated clip reaches {COPY_LISTEN_THRESHOLD:.2f}.")
        for g, t, s in pairs[:LISTEN_PAIRS]:
            report.audio(generated.clips[g][None], rate,
                         f"generated {generated.label(g)} (similarity {s:.3f})")
            report.audio(train.clips[t][None], rate, f"training {train.label(t)}")
    return report.write(path)
