import re

import numpy as np

from cadenza.clips import ClipSet
from cadenza.eval_report import LISTEN_PAIRS, write_report
from cadenza.measure import measure

RATE = 8000


def test_the_page_is_self_contained_with_figures_players_and_skipped_files(tmp_path):
    rng = np.random.default_rng(0)
    train = ClipSet.from_array("train", 0.1 * rng.standard_normal((6, RATE)), RATE)
    # Two generated clips copy training clips: copy detection must offer them to listen to.
    generated = ClipSet.from_array("generated", np.concatenate(
        [0.2 * rng.standard_normal((4, RATE)), train.clips[:2]]), RATE)
    generated.skipped = [{"path": "broken.wav", "reason": "not readable"}]
    reference = ClipSet.from_array("reference", 0.1 * rng.standard_normal((5, RATE)), RATE)
    evaluation = measure(generated, reference, train, classifiers=False, progress=False)
    # What cadenza.evaluate adds around the measurements in metrics.json.
    metrics = {
        "cadenza": "0", "created": "today",
        "config": {"generated_dir": "gen", "reference_dir": "ref", "train_dir": "train",
                   "clip_seconds": 1.0, "sample_rate": RATE, "seed": 0},
        "sets": {s.name: s.summary() for s in (generated, reference, train)},
        **evaluation.metrics,
    }

    page = write_report(evaluation, metrics, tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # FAD fit, distances, copy similarity
    # Best 3 and worst 3 generated clips, then the copy pairs (generated + training each).
    listen = metrics["copies"]["pairs_to_listen"]
    assert len(listen) >= 2
    assert page.count("data:audio/wav;base64,") == 6 + 2 * min(LISTEN_PAIRS, len(listen))
    assert "broken.wav" in page and "<table>" in page
    assert "classifiers not used: not requested" in page
    # 5 reference clips: KID says what it needs; the floors say where to find them.
    assert "n/a (needs 10 clips)" in page and "Floors: what the best" in page
    assert "benchmarks/RESULTS.md" in page
    # Every table has a heading and a line saying what it holds.
    assert page.count("<table>") == len(re.findall(r"</h2>(?:<p[^>]*>[^<]+</p>)+<table>", page))
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing outside the page
