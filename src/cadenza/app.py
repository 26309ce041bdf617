"""``cadenza app``: a local web app (Gradio) over the same Python API the CLI uses.

One tab per task (generate, extend, inpaint, outpaint, transfer, interpolate, evaluate); each
runs through :mod:`cadenza.runs` as the CLI does and gives a player, a spectrogram with the
seams marked, the wav and its JSON record. The pieces: :mod:`cadenza.app_ui` (the page),
:mod:`cadenza.app_studio` (the handlers), :mod:`cadenza.app_views` (pictures, card, tables).

Offline by construction: no telemetry or version check (``GRADIO_ANALYTICS_ENABLED=False``),
no share link, no server-side rendering (which would start Node), system fonts (no font CDN).
It listens on 127.0.0.1 unless told otherwise; uploads and results live in one temporary
folder, pruned hourly and removed when the app stops.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from cadenza.checkpoint import read_json
from cadenza.pipeline import SHIPPED, model_folder


def model_choices(given: Sequence[str | Path] = ()) -> dict[str, Path]:
    """Menu name -> folder: the models given (a folder or a shipped name), then the shipped
    ones, each folder once. A given folder that is no model fails here, before anything
    starts."""
    choices: dict[str, Path] = {}
    for model in [*given, *SHIPPED]:
        folder = model_folder(model)
        if folder.resolve() not in {known.resolve() for known in choices.values()}:
            read_json(folder / "pipeline.json")  # a clear error naming the file
            choices[str(model) if str(model) in SHIPPED else str(folder)] = folder
    return choices


def is_local(host: str) -> bool:
    """Whether only this machine can reach ``host`` (then a page may name folders on it)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(models: Sequence[str | Path] = (), *, host: str = "127.0.0.1", port: int = 7860,
          upload_mb: float = 50.0, upload_seconds: float = 600.0, output_seconds: float = 300.0,
          batch: int = 4, concurrency: int = 1, queue_size: int = 32, block: bool = True,
          preload: bool = True):
    """Start the app; with ``block`` serve until interrupted, then remove its folder.
    Without ``block`` return the running Gradio app (its ``close()`` stops it; the folder is
    ``app.cadenza_workdir``)."""
    choices = model_choices(models)
    if upload_mb <= 0 or upload_seconds <= 0 or output_seconds <= 0 or batch < 1:
        raise ValueError("upload and output limits must be positive, batch at least 1")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="cadenza-app-"))
    # Read by Gradio when it is imported: no telemetry, uploads inside our own folder.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "uploads")
    try:
        import gradio as gr

        from cadenza.app_studio import Limits, Studio
        from cadenza.app_ui import build

        studio = Studio(choices, workdir, Limits(upload_mb, upload_seconds, output_seconds,
                                                 batch), local=is_local(host))
        page = build(studio, concurrency)
        page.queue(default_concurrency_limit=concurrency, max_size=queue_size)
        page.launch(
            server_name=host, server_port=port, share=False, ssr_mode=False,
            prevent_thread_lock=True, quiet=False, show_error=False,
            max_file_size=f"{upload_mb:g}mb", allowed_paths=[str(workdir)],
            theme=gr.themes.Default(font=["system-ui", "sans-serif"],
                                    font_mono=["ui-monospace", "monospace"]),
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    page.cadenza_workdir = workdir
    print(f"cadenza app: uploads and results in {workdir} (removed when the app stops)",
          flush=True)
    if preload:  # the first run need not wait for the default model to load
        threading.Thread(target=studio.model, args=(next(iter(choices)),), daemon=True).start()
    if not block:
        return page
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # a plain kill also removes the folder
    try:
        page.block_thread()
    finally:
        page.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
