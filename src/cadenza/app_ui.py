"""The web app's page: a model menu and card, a tab per task, each wired to a
:class:`~cadenza.app_studio.Studio` handler. Layout only; the work is the Studio's.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from cadenza.app_studio import DEFAULT, KEEP_SECONDS, Studio
from cadenza.plan import STRATEGIES
from cadenza.sampling import METHODS
from cadenza.tasks import EXTEND_CONTEXT_SECONDS, EXTEND_WINDOW_SECONDS

WORK = "model-work"
"""One concurrency group for every task: Gradio's queue runs them ``concurrency`` at a time
(default 1) and shows each waiting page its place in the line."""

UPLOAD = {"type": "filepath", "format": None}
"""Audio inputs reach the handler as the uploaded file itself, never re-encoded (which would
need ffmpeg and would change the known samples)."""


def sampling(strategy: bool) -> list[gr.components.Component]:
    """The plan's controls: seed, sampler and steps (0: the model's), and for tasks with
    known audio the editing strategy."""
    with gr.Accordion("Sampling", open=False), gr.Row():
        controls = []
        if strategy:
            controls.append(gr.Dropdown([DEFAULT, *STRATEGIES], value=DEFAULT, label="strategy",
                                        info="how the known audio enters sampling"))
        controls.append(gr.Number(0, precision=0, label="seed"))
        controls.append(gr.Dropdown([DEFAULT, *METHODS], value=DEFAULT, label="sampler"))
        # 0, not empty: Gradio draws an empty number as 0 and would send that
        controls.append(gr.Number(0, precision=0, minimum=0, label="steps",
                                  info="0: the default"))
    return controls


def band_switch() -> gr.Checkbox:
    """Whether the band above the model's is continued in the new audio from the input's
    (``--band-fill`` / ``--no-band-fill`` on the command line)."""
    return gr.Checkbox(True, label="continue the band above the model's from the input",
                       elem_classes="band-fill")


def results(players: int = 1) -> tuple[list[gr.components.Component], Any]:
    """A result's players, spectrogram, downloads (wav and JSON record) and summary."""
    audios = [gr.Audio(label="result" if players == 1 else f"clip {i + 1}", type="filepath",
                       interactive=False, visible=i == 0, elem_classes="result-audio")
              for i in range(players)]
    picture = gr.Image(label="spectrogram (dashed lines: seams)", type="filepath",
                       interactive=False, elem_classes="result-spectrogram")
    files = gr.File(label="downloads: wav and its JSON record", file_count="multiple",
                    interactive=False, elem_classes="result-files")
    summary = gr.Markdown(elem_classes="result-summary")
    return [*audios, picture, files, summary], summary


def buttons(name: str) -> tuple[gr.Button, gr.Button]:
    with gr.Row():
        go = gr.Button(name, variant="primary", elem_classes="run")
        stop = gr.Button("Cancel", variant="stop", elem_classes="cancel")
    return go, stop


def wire(studio: Studio, go: gr.Button, stop: gr.Button, handler: Any, inputs: list,
         outputs: list, summary: Any, concurrency: int) -> None:
    """Run on ``go`` in the queue; ``stop`` sets the session's cancel flag (the running model
    stops before its next call) and drops the event from the queue."""
    event = go.click(handler, inputs, outputs, concurrency_id=WORK,
                     concurrency_limit=concurrency)
    stop.click(studio.cancel, None, summary, queue=False)
    stop.click(None, None, None, cancels=[event], queue=False)


def build(studio: Studio, concurrency: int = 1) -> gr.Blocks:
    names = list(studio.models)
    limits = studio.limits
    with gr.Blocks(title="cadenza", analytics_enabled=False,
                   delete_cache=(600, KEEP_SECONDS)) as page:  # uploads and results
        gr.Markdown("## cadenza: diffusion models of music audio")
        with gr.Row():
            model = gr.Dropdown(names, value=names[0], label="model", scale=1)
            with gr.Column(scale=3), gr.Accordion("model card", open=False):
                card = gr.Markdown(studio.card(names[0]))
        model.change(studio.card, model, card, queue=False)

        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column():
                    seconds = gr.Number(4.0, label="seconds", minimum=0.1,
                                        maximum=limits.output_seconds)
                    batch = gr.Slider(1, limits.batch, value=1, step=1, label="clips")
                    loudness = gr.Dropdown(["model", "off", "-14", "-18", "-23"], value="model",
                                           allow_custom_value=True, label="loudness (LUFS)",
                                           info="model: its corpus's median; off: as made")
                    seed, sampler, steps = sampling(False)
                    go, stop = buttons("Generate")
                with gr.Column():
                    outputs, summary = results(limits.batch)
            wire(studio, go, stop, studio.generate,
                 [model, seconds, batch, seed, sampler, steps, loudness], outputs, summary,
                 concurrency)

        with gr.Tab("Extend"):
            with gr.Row():
                with gr.Column():
                    prompt = gr.Audio(sources=["upload", "microphone"], label="prompt", **UPLOAD)
                    seconds = gr.Number(10.0, label="seconds to add", minimum=0.1)
                    with gr.Row():
                        window = gr.Number(EXTEND_WINDOW_SECONDS, label="window (s)",
                                           minimum=0.1)
                        context = gr.Number(EXTEND_CONTEXT_SECONDS, label="context (s)",
                                            minimum=0.05)
                    with gr.Row():
                        regenerate = gr.Checkbox(False, label="regenerate the context "
                                                 "(crossfaded) instead of keeping it")
                        crossfade = gr.Number(0.05, label="crossfade (s)", minimum=0)
                    band_fill = band_switch()
                    strategy, seed, sampler, steps = sampling(True)
                    go, stop = buttons("Extend")
                with gr.Column():
                    outputs, summary = results()
            wire(studio, go, stop, studio.extend,
                 [model, prompt, seconds, window, context, regenerate, crossfade, strategy, seed,
                  sampler, steps, band_fill], outputs, summary, concurrency)

        with gr.Tab("Inpaint"):
            with gr.Row():
                with gr.Column():
                    source = gr.Audio(sources=["upload", "microphone"], label="audio", **UPLOAD)
                    waveform = gr.Image(label="click twice to mark a gap (start, end)",
                                        interactive=False, elem_classes="waveform")
                    with gr.Row():
                        gaps = gr.Textbox(label="gaps (seconds)", placeholder="3-4.5, 6-6.5",
                                          elem_classes="gaps", scale=3)
                        clear = gr.Button("Clear gaps", size="sm", scale=1)
                    pending = gr.State(None)
                    band_fill = band_switch()
                    strategy, seed, sampler, steps = sampling(True)
                    go, stop = buttons("Inpaint")
                with gr.Column():
                    outputs, summary = results()
            source.change(studio.waveform, [source, gaps], waveform, queue=False)
            gaps.submit(studio.waveform, [source, gaps], waveform, queue=False)
            waveform.select(studio.mark, [source, gaps, pending], [waveform, gaps, pending],
                            queue=False)
            clear.click(lambda path: (studio.waveform(path, ""), "", None), source,
                        [waveform, gaps, pending], queue=False)
            wire(studio, go, stop, studio.inpaint,
                 [model, source, gaps, strategy, seed, sampler, steps, band_fill], outputs,
                 summary, concurrency)

        with gr.Tab("Outpaint"):
            with gr.Row():
                with gr.Column():
                    source = gr.Audio(sources=["upload", "microphone"], label="audio", **UPLOAD)
                    seconds = gr.Number(3.0, label="seconds to add", minimum=0.1)
                    side = gr.Radio(["after", "before"], value="after", label="side")
                    band_fill = band_switch()
                    strategy, seed, sampler, steps = sampling(True)
                    go, stop = buttons("Outpaint")
                with gr.Column():
                    outputs, summary = results()
            wire(studio, go, stop, studio.outpaint,
                 [model, source, seconds, side, strategy, seed, sampler, steps, band_fill],
                 outputs, summary, concurrency)

        with gr.Tab("Transfer"):
            with gr.Row():
                with gr.Column():
                    source = gr.Audio(sources=["upload", "microphone"], label="audio", **UPLOAD)
                    strength = gr.Slider(0.05, 1.0, value=0.5, step=0.05, label="strength",
                                         info="1 starts from noise; small stays close")
                    band_fill = band_switch()
                    seed, sampler, steps = sampling(False)
                    go, stop = buttons("Transfer")
                with gr.Column():
                    outputs, summary = results()
            wire(studio, go, stop, studio.transfer,
                 [model, source, strength, seed, sampler, steps, band_fill], outputs, summary,
                 concurrency)

        with gr.Tab("Interpolate"):
            with gr.Row():
                with gr.Column():
                    with gr.Row():
                        first = gr.Audio(sources=["upload"], label="clip A (ratio 0)", **UPLOAD)
                        second = gr.Audio(sources=["upload"], label="clip B (ratio 1)", **UPLOAD)
                    ratio = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="ratio")
                    mode = gr.Radio(["slerp", "linear"], value="slerp", label="mixing")
                    strength = gr.Slider(0.05, 1.0, value=0.5, step=0.05, label="strength")
                    band_fill = band_switch()
                    seed, sampler, steps = sampling(False)
                    go, stop = buttons("Interpolate")
                with gr.Column():
                    outputs, summary = results()
            wire(studio, go, stop, studio.interpolate,
                 [model, first, second, ratio, mode, strength, seed, sampler, steps, band_fill],
                 outputs, summary, concurrency)

        with gr.Tab("Evaluate"):
            where = ("a folder on this machine or uploads" if studio.local
                     else "uploads (folders only when the app listens on 127.0.0.1)")
            gr.Markdown(f"`cadenza eval`: generated audio against reference audio, from {where}.")
            with gr.Row():
                with gr.Column():
                    generated_folder = gr.Textbox(label="generated: folder", visible=studio.local)
                    generated_files = gr.File(label="generated: files", file_count="multiple",
                                              file_types=["audio"])
                with gr.Column():
                    reference_folder = gr.Textbox(label="reference: folder", visible=studio.local)
                    reference_files = gr.File(label="reference: files", file_count="multiple",
                                              file_types=["audio"])
            with gr.Row():
                clip = gr.Number(4.0, label="clip seconds", minimum=0.25)
                classifiers = gr.Checkbox(True, label="PIS / IIS / PKID / IKID (note classifiers)")
            go, stop = buttons("Evaluate")
            table = gr.Dataframe(headers=["metric", "value", "interval / spread", "note"],
                                 label="metrics", interactive=False)
            summary = gr.Markdown()
            report = gr.HTML()
            files = gr.File(label="downloads: metrics.json and report.html",
                            file_count="multiple", interactive=False)
            wire(studio, go, stop, studio.evaluate,
                 [generated_folder, generated_files, reference_folder, reference_files, clip,
                  classifiers], [table, report, files, summary], summary, concurrency)
    return page
