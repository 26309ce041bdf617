"""Metrics: numbers that say how generated audio compares with reference audio.

Every metric takes arrays (clips ``(n, samples)`` or embeddings ``(n, dim)``, float64), never
files; reading, resampling and choosing what to compare belong to the caller. Modules:

- ``frechet``: Fréchet (audio) distance between embedding sets, FAD-∞ (and when its fit is
  too poor to show), bootstrap intervals.
- ``bandwidth``: the frequency below which a share of a set's power lies.
- ``kernel``: unbiased MMD² with the inverse multi-quadratic kernel (KID, PKID, IKID).
- ``inception``: inception score from class probabilities (PIS, IIS).
- ``ks``: Kolmogorov–Smirnov D on frame features, raw samples and a denoising history.
- ``pitch``: YIN / pYIN pitch tracks with times in seconds.
- ``continuity``: does a continuation carry on its prompt (key, tempo, loudness, seam).
- ``copies``: copy (memorisation) detection against a training set.
- ``embedders``: the ``Embedder`` protocol, the model-free ``MelStats``, and the registry.
- ``classifier``: cadenza's pitch and instrument classifiers (trained on the note set, shipped)
  as an embedder with class probabilities: what PIS, IIS, PKID and IKID are computed on.
"""
