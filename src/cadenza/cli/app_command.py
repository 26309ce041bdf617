"""``cadenza app``: the web app (Gradio), a tab per task, over the same API as the commands."""

from __future__ import annotations

from pathlib import Path

import typer

from cadenza.cli.app import app


@app.command("app")
def web_app(
    model: list[Path] = typer.Option(None, metavar="MODEL", help="A model folder or a "
                                     "shipped model's name; repeat for several (the shipped "
                                     "models are always offered; the first given is the "
                                     "default)."),
    port: int = typer.Option(7860, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; 0.0.0.0 opens the app to "
                             "the network (then pages cannot name folders on this machine)."),
    max_upload_mb: float = typer.Option(50.0, help="Largest upload, in MB."),
    max_upload_seconds: float = typer.Option(600.0, help="Longest uploaded clip, in seconds."),
    max_seconds: float = typer.Option(300.0, help="Most audio one request may make, seconds."),
    max_batch: int = typer.Option(4, help="Most clips one Generate may make."),
    concurrency: int = typer.Option(1, help="Runs at once (the rest wait in the queue, their "
                                    "place shown); one model still runs one at a time."),
) -> None:
    """Start the web app, a tab per task.

    Generate, extend, inpaint, outpaint, transfer, interpolate and evaluate in the browser;
    offline, uploads kept in a temporary folder removed on exit."""
    from cadenza.app import serve  # Gradio loads only for this command

    serve(model or (), host=host, port=port, upload_mb=max_upload_mb,
          upload_seconds=max_upload_seconds, output_seconds=max_seconds, batch=max_batch,
          concurrency=concurrency)
