"""Latent audio diffusion: the noise schedule and DDIM step by hand, guidance, the latent scale and
cache, and the whole AudioLDM / QVIM-LDM chain of tiny stages end to end (train, generate, evaluate)."""

import math
from pathlib import Path

import pytest
import soundfile as sf
import torch

from tests.conftest import all_runs, compose_tiny, mlflow_client
from vocalgen.checkpoints import load_module
from vocalgen.data.audio_io import audio_files
from vocalgen.errors import CheckpointError, ConfigError
from vocalgen.evaluate import evaluate
from vocalgen.generate import generate
from vocalgen.generators.guidance import drop_conditions, guidance_schedule, guide
from vocalgen.generators.noise_schedule import NoiseSchedule
from vocalgen.metrics.clap_embedder import ClapEmbedder
from vocalgen.stages import resolve_stages
from vocalgen.train import train

# ------------------------------------------------------------------ schedule, sampler and guidance by hand


def test_the_recipe_beta_schedule_matches_hand_computed_values() -> None:
    schedule = NoiseSchedule()  # 1000 steps, β 0.0015 → 0.0195, LDM's "linear" (√β evenly spaced)
    betas = schedule.betas.double()
    root = lambda i: math.sqrt(0.0015) + (math.sqrt(0.0195) - math.sqrt(0.0015)) * i / 999
    for i in (0, 1, 500, 999):
        assert betas[i].item() == pytest.approx(root(i) ** 2, rel=1e-5)
    alpha_bar_1 = (1 - 0.0015) * (1 - root(1) ** 2)
    assert schedule.training.alphas_cumprod[1].item() == pytest.approx(alpha_bar_1, rel=1e-6)


def test_add_noise_and_the_v_target_follow_the_closed_form() -> None:
    x0, noise, t = torch.randn(2, 3), torch.randn(2, 3), torch.tensor([10, 700])
    schedule = NoiseSchedule(prediction_type="v_prediction")
    bar = schedule.training.alphas_cumprod[t].unsqueeze(1)
    assert torch.allclose(schedule.add_noise(x0, noise, t), bar.sqrt() * x0 + (1 - bar).sqrt() * noise, atol=1e-6)
    assert torch.allclose(schedule.target(x0, noise, t), bar.sqrt() * noise - (1 - bar).sqrt() * x0, atol=1e-6)
    assert torch.equal(NoiseSchedule().target(x0, noise, t), noise)


def test_a_ddim_step_matches_the_hand_computed_update() -> None:
    schedule = NoiseSchedule()
    sampler = schedule.sampler("ddim", 10)
    assert sampler.timesteps.tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    x, eps = torch.randn(1, 4), torch.randn(1, 4)
    bar = schedule.training.alphas_cumprod.double()
    x0 = (x.double() - (1 - bar[900]).sqrt() * eps.double()) / bar[900].sqrt()
    expected = bar[800].sqrt() * x0 + (1 - bar[800]).sqrt() * eps.double()
    assert torch.allclose(sampler.step(eps, 900, x).prev_sample.double(), expected, atol=1e-5)


def test_guidance_zero_is_unconditional_one_conditional_and_a_ramp_runs_linearly() -> None:
    u, c = torch.randn(3, 5), torch.randn(3, 5)
    assert torch.equal(guide(u, c, 0.0), u)
    assert torch.allclose(guide(u, c, 1.0), c)
    assert torch.allclose(guide(u, c, 3.0), u + 3 * (c - u))
    assert guidance_schedule(1.0, 3.0, 5) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert guidance_schedule(3.5, None, 3) == [3.5, 3.5, 3.5]


def test_condition_dropout_swaps_whole_rows_for_the_null_at_the_rate() -> None:
    torch.manual_seed(0)
    condition = torch.ones(4000, 8)
    dropped = drop_conditions(condition, torch.zeros(1, 8), 0.1)
    rows = dropped.sum(dim=1)
    assert set(rows.unique().tolist()) == {0.0, 8.0}
    assert 0.08 < (rows == 0).float().mean() < 0.12
    assert torch.equal(drop_conditions(condition, torch.zeros(1, 8), 0.0), condition)


def test_bad_sampler_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="sampler='euler'"):
        NoiseSchedule().sampler("euler", 10)
    with pytest.raises(ConfigError, match="steps=0"):
        NoiseSchedule().sampler("ddim", 0)
    with pytest.raises(ConfigError, match="prediction_type='x0'"):
        NoiseSchedule(prediction_type="x0")


# ------------------------------------------------------------------ the tiny stage chain


def run_id(output_dir: Path, run_name: str) -> str:
    (run,) = [r for r in all_runs(output_dir) if r.info.run_name == run_name]
    return run.info.run_id


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict[str, Path]:
    """Tiny CLAP, mel VAE, vocoder and AudioLDM runs, each one epoch; the output dir and checkpoints."""
    out = tmp_path_factory.mktemp("ldm")
    train(compose_tiny("clap_cpu", out, data_root, "clap", "data.batch_size=8"))
    train(compose_tiny("mel_vae", out, data_root, "vae"))
    train(compose_tiny("vocoder", out, data_root, "vocoder"))
    links = [f"clap_checkpoint={run_id(out, 'clap')}", f"vae_checkpoint={out}/vae/checkpoints/last.ckpt",
             f"vocoder_checkpoint={run_id(out, 'vocoder')}"]
    train(compose_tiny("audioldm_refined", out, data_root, "ldm", *links))
    return {"out": out, "ldm": out / "ldm" / "checkpoints" / "last.ckpt", "links": links}


def test_every_stage_trains_and_logs_its_terms(chain) -> None:
    metrics = {run.info.run_name: set(run.data.metrics) for run in all_runs(chain["out"])}
    assert {"train/l1_step", "train/kl_step", "val/l1", "val/generated_rms"} <= metrics["mel_vae"]
    assert {"train/stft_step", "train/mel_step", "train/disc_loss_step", "train/adversarial_step",
            "train/feature_matching_step", "val/stft"} <= metrics["vocoder"]
    assert {"train/mse_step", "val/mse"} <= metrics["audioldm_refined"]


def test_the_latent_scale_is_measured_once_and_restored_from_the_checkpoint(chain) -> None:
    module, config = load_module(chain["ldm"])
    scale = module.generator.latent_scale.item()
    assert scale > 0 and math.isfinite(scale)
    stored = torch.load(chain["ldm"], weights_only=True)["state_dict"]["generator.latent_scale"]
    assert scale == stored.item()
    assert config["generator"]["pretransform"]["autoencoder"]["pretrained"] is not None  # the stage link is recorded


def test_generate_from_text_writes_audio_of_the_configured_length(chain, tmp_path: Path) -> None:
    written = generate(str(chain["ldm"]), None, tmp_path, chain["out"] / "mlflow", text=["a dog barking twice"],
                       steps=2, seed=0)
    assert [p.name for p in written] == ["a_dog_barking_twice.wav"]
    info = sf.info(written[0])
    assert info.samplerate == 16000 and info.frames == 10240
    again = generate(str(chain["ldm"]), None, tmp_path / "again", chain["out"] / "mlflow",
                     text=["a dog barking twice"], steps=2, seed=0)
    assert sf.read(again[0])[0].tolist() == sf.read(written[0])[0].tolist()  # a seed fixes the noise
    (ddpm,) = generate(str(chain["ldm"]), None, tmp_path / "ddpm", chain["out"] / "mlflow", text=["a bird"],
                       steps=3, sampler="ddpm", guidance=1.0, guidance_end=3.0)
    assert sf.info(ddpm).frames == 10240


def test_empty_and_over_long_prompts_are_refused(chain, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the prompt is empty"):
        generate(str(chain["ldm"]), None, tmp_path, chain["out"] / "mlflow", text=["  "])
    with pytest.raises(ConfigError, match="shorten it"):
        generate(str(chain["ldm"]), None, tmp_path, chain["out"] / "mlflow", text=["siren " * 200])


def test_evaluate_scores_generation_against_both_baselines(chain) -> None:
    metrics = evaluate(str(chain["ldm"]), chain["out"] / "mlflow", split="val", sampling={"steps": 2})
    for prefix in ("", "unconditional/", "shuffled/"):
        assert {f"{prefix}fd", f"{prefix}adherence_mrr", f"{prefix}clap_score", f"{prefix}rms"} <= set(metrics)
        assert 0 < metrics[f"{prefix}adherence_mrr"] <= 1 and metrics[f"{prefix}fd"] >= 0
    (run,) = [r for r in all_runs(chain["out"]) if r.info.run_name == "evaluate audioldm_refined"]
    assert "eval/shuffled/adherence_mrr" in run.data.metrics
    again = evaluate(str(chain["ldm"]), chain["out"] / "mlflow", split="val", sampling={"steps": 2},
                     baselines=False, log_to_mlflow=False)
    assert again["fd"] == pytest.approx(metrics["fd"]) and again["rms"] == pytest.approx(metrics["rms"])  # seeded


def test_the_clap_embedder_takes_reference_files_of_different_lengths(chain, tmp_path: Path) -> None:
    clap = chain["out"] / "clap" / "checkpoints" / "last.ckpt"
    embedder = ClapEmbedder(clap, seconds=1.0)
    rate = 22050
    tone = torch.sin(torch.arange(3 * rate) * 2 * math.pi * 440 / rate)
    paths = []
    for seconds in (0.5, 1.0, 3.0):
        paths.append(tmp_path / f"tone_{seconds}.wav")
        sf.write(paths[-1], tone[: int(seconds * rate)].numpy(), rate)
    embeddings = embedder.embed_files(paths)
    assert embeddings.shape[0] == 3 and torch.isfinite(embeddings).all()
    assert torch.dot(embeddings[1], embedder.embed_files(paths[2:])[0]) > 0.99  # both cut to 1 s


def test_the_latent_cache_is_filled_once_then_read_and_refuses_other_weights(chain, data_root: Path) -> None:
    out, cache = chain["out"], chain["out"] / "latents"
    train(compose_tiny("audioldm_refined", out, data_root, "cached", *chain["links"], f"data.cache={cache}"))
    entries = sorted(cache.glob("*.pt"))
    assert len(entries) == 12 and (cache / "manifest.json").is_file()  # the 12 training sounds of the tiny set
    item = torch.load(entries[0], weights_only=True)
    assert item["latents"].shape == (8, 16, 16) and item["encoded"].shape == (32,)
    before = {p: p.stat().st_mtime_ns for p in entries}
    train(compose_tiny("audioldm_refined", out, data_root, "cached2", *chain["links"], f"data.cache={cache}"))
    assert {p: p.stat().st_mtime_ns for p in sorted(cache.glob("*.pt"))} == before  # read, not rewritten
    other_vae = [f"clap_checkpoint={run_id(out, 'clap')}", f"vae_checkpoint={out}/ldm/checkpoints/last.ckpt"]
    wrong = compose_tiny("audioldm_refined", out, data_root, "wrong", *other_vae, "vocoder_checkpoint=null")
    with pytest.raises(CheckpointError, match="vae_checkpoint: .* is a 'latent_diffusion' stage.*needs a mel_vae"):
        resolve_stages(wrong)
    train(compose_tiny("mel_vae", out, data_root, "vae2", "seed=7"))
    relinked = [chain["links"][0], f"vae_checkpoint={out}/vae2/checkpoints/last.ckpt", chain["links"][2]]
    with pytest.raises(ConfigError, match="pre-encoded by other weights.*pretransform"):
        train(compose_tiny("audioldm_refined", out, data_root, "cached3", *relinked, f"data.cache={cache}"))


def test_a_missing_pretransform_checkpoint_is_named(chain, data_root: Path) -> None:
    cfg = compose_tiny("audioldm_refined", chain["out"], data_root, "missing", chain["links"][0],
                       "vae_checkpoint=/nowhere/vae.ckpt", "vocoder_checkpoint=null")
    with pytest.raises(CheckpointError, match="/nowhere/vae.ckpt"):
        resolve_stages(cfg)


def test_qvim_ldm_fine_tunes_the_adapter_and_film_and_generates_from_an_imitation(chain, data_root: Path,
                                                                                tmp_path: Path) -> None:
    out = chain["out"]
    train(compose_tiny("qvim_cpu", out, data_root, "qvim"))
    train(compose_tiny("qvim_clap_align", out, data_root, "align", f"qvim_checkpoint={out}/qvim/checkpoints/last.ckpt",
                       f"clap_checkpoint={run_id(out, 'clap')}"))
    cfg = compose_tiny("qvim_ldm", out, data_root, "qvim_ldm", f"align_checkpoint={out}/align/checkpoints/last.ckpt",
                       f"ldm_checkpoint={chain['ldm']}", "sampling.steps=2", "epochs=2")
    before, _ = load_module(chain["ldm"])
    train(cfg)
    module, _ = load_module(out / "qvim_ldm" / "checkpoints" / "last.ckpt")
    unet, tuned = before.generator.unet.state_dict(), module.generator.unet.state_dict()
    changed = {name for name in unet if not torch.equal(unet[name], tuned[name])}
    assert changed and all(name.startswith("class_embedding.") for name in changed)  # only FiLM moved
    (run,) = [r for r in all_runs(out) if r.info.run_name == "qvim_ldm"]
    assert {"grad_norm/adapter", "grad_norm/generator.unet.class_embedding", "val/generated_rms"} <= set(
        run.data.metrics)
    history = mlflow_client(out).get_metric_history(run.info.run_id, "grad_norm/adapter")
    assert all(math.isfinite(m.value) and m.value > 0 for m in history)
    imitation = audio_files(data_root / "Vim_Sketch_Dataset" / "vocal_imitations")[0]
    (written,) = generate(str(out / "qvim_ldm" / "checkpoints" / "last.ckpt"), [imitation], tmp_path, out / "mlflow",
                          steps=2)
    info = sf.info(written)
    assert written.stem == imitation.stem and info.samplerate == 16000 and info.frames == 10240


def test_the_original_audioldm_pairs_with_a_laion_text_transformer_clap(chain, data_root: Path) -> None:
    out = chain["out"]
    with pytest.raises(CheckpointError, match="is a 'clap_gpt2' stage.*needs a clap_transformer"):
        resolve_stages(compose_tiny("audioldm", out, data_root, "audioldm_gpt2", *chain["links"]))
    train(compose_tiny("clap_cpu", out, data_root, "clap_transformer", "data.batch_size=8",
                       "generator.tower.tower.backbone=transformer", "generator.tower.tower.context_length=32"))
    links = [f"clap_checkpoint={out}/clap_transformer/checkpoints/last.ckpt", *chain["links"][1:]]
    train(compose_tiny("audioldm", out, data_root, "audioldm", *links))
    (written,) = generate(str(out / "audioldm" / "checkpoints" / "last.ckpt"), None, out / "gen", out / "mlflow",
                          text=["a siren rising slowly"], steps=2)
    assert sf.info(written).frames == 10240


def test_adversarial_training_resumes_both_optimizers(chain, data_root: Path) -> None:
    out = chain["out"]
    last = out / "vocoder" / "checkpoints" / "last.ckpt"
    states = torch.load(last, weights_only=True)["optimizer_states"]
    assert len(states) == 2 and all(state["state"] for state in states)  # generator and discriminator
    train(compose_tiny("vocoder", out, data_root, "vocoder_resumed", f"ckpt_path={last}", "epochs=2"))
    resumed = torch.load(out / "vocoder_resumed" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == 6  # generator steps only: 3 per epoch
