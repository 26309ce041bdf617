"""On a CUDA machine (benchmarks/gpu/run.sh runs these there); skipped elsewhere."""

import pytest
import torch

from cadenza.networks import DIFFUSION_NETWORKS, network, network_class

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

LAYOUTS = {
    "diffwave": (2, 1, 4096),
    "unet1d": (2, 1, 128, 64),
    "unet2d_linear_attention": (2, 1, 64, 64),
    "unet2d": (2, 2, 65, 64),
}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", DIFFUSION_NETWORKS)
def test_every_network_trains_under_autocast(name, dtype):
    torch.manual_seed(0)
    model = network(name, **network_class(name).TINY).cuda()
    x = torch.randn(LAYOUTS[name], device="cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    with torch.autocast("cuda", dtype=dtype):
        out = model(x, torch.tensor([0.1, 0.9], device="cuda"))
        loss = (out.float() - x).pow(2).mean()
    scaler.scale(loss).backward()
    assert out.shape == x.shape and torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_vocos_runs_under_bf16_autocast():
    vocos = network("vocos", n_mels=64, n_fft=1024, hop_length=256, width=64, hidden=128,
                    layers=2).cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        wave = vocos(torch.randn(2, 1, 64, 40, device="cuda") - 5, samples=9984)
    wave.float().pow(2).mean().backward()
    assert wave.shape == (2, 1, 9984) and torch.isfinite(wave).all()


def test_a_training_step_through_the_trainer(tmp_path):
    from cadenza.objectives import objective
    from cadenza.trainer import TrainConfig, Trainer

    data = [torch.randn(1, 64, 32) for _ in range(16)]
    model = network("unet2d_linear_attention", **network_class("unet2d_linear_attention").TINY)
    config = TrainConfig(steps=3, batch_size=4, warmup_steps=1, checkpoint_every=0,
                         mixed_precision="bf16")
    trainer = Trainer(model, objective("edm"), data, config, tmp_path, progress=False)
    trainer.train()
    assert next(trainer.ema_network().parameters()).isfinite().all()


def test_sampling_on_cuda_equals_cpu_within_tolerance():
    from cadenza.pipeline import load, model_folder
    from cadenza.tasks import generate

    cpu = load(model_folder("tiny-piano-mel"))
    gpu = load(model_folder("tiny-piano-mel"), device="cuda")
    # The same start noise on both: the sampler's float64 maths and the network agree.
    a = generate(cpu, 1.0, seed=0, steps=10)
    b = generate(gpu, 1.0, seed=0, steps=10).cpu()
    assert a.shape == b.shape
    assert (a - b).pow(2).mean().sqrt() < 0.05 * a.pow(2).mean().sqrt() + 1e-4
