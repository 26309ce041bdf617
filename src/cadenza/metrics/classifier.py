"""Pitch and instrument classifiers on log-mel: the embedder behind PIS, IIS, PKID and IKID.

Seed 001 measures generated music with the inception score and the kernel distance of a pitch
and an instrument classifier (PIS, IIS, PKID, IKID). cadenza trains its own, small ones on the
labelled note set (``cadenza data notes``: 21 pitches x 3 velocities x 8 instruments). This
module gathers the two halves:

- ``cadenza.metrics.note_classifier``: the network (``NoteClassifier``), its folder on disk
  (``save_classifier``, ``load_classifier``, ``shipped_classifier``) and the ``Embedder`` the
  metrics use (``ClassifierEmbedder``).
- ``cadenza.metrics.classifier_training``: ``train_classifier`` and the note-set reading and
  augmentation it uses.

The classifiers see single notes of General MIDI instruments only: on music they say which
pitch range and which timbre a clip is closest to, which is what the metrics need (how evenly
and how confidently generated clips cover them), not a transcription.
"""

from __future__ import annotations

from cadenza.metrics.classifier_training import augment, read_note_set, train_classifier
from cadenza.metrics.note_classifier import (
    CONFIG_FILE,
    LOG_FIELDS,
    LOG_FILE,
    TARGETS,
    WEIGHTS_FILE,
    ClassifierEmbedder,
    NoteClassifier,
    load_classifier,
    save_classifier,
    shipped_classifier,
)

# One import path for both halves, as before they were split (the CLI and embedders use it).
__all__ = ["CONFIG_FILE", "LOG_FIELDS", "LOG_FILE", "TARGETS", "WEIGHTS_FILE",
           "ClassifierEmbedder", "NoteClassifier", "augment", "load_classifier",
           "read_note_set", "save_classifier", "shipped_classifier", "train_classifier"]
