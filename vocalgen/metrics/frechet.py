"""Fréchet distance between two sets of embeddings (FAD with VGGish/PANNs/CLAP embeddings, FID).

FD = ‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½) between Gaussians fitted to the two sets, in float64.
"""

import warnings

import numpy as np
import scipy.linalg
import torch

ArrayLike = np.ndarray | torch.Tensor
# Relative Frobenius error of sqrtm(P)² against P beyond which the root is retried with an offset.
ROOT_TOLERANCE = 1e-6
# Largest |imaginary part| of the root's diagonal that is dropped as round-off.
IMAGINARY_TOLERANCE = 1e-3


def _as_float64(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def gaussian_statistics(embeddings: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """embeddings [N, D] (N ≥ 2) → (mean [D], unbiased covariance [D, D]), float64 numpy arrays."""
    x = _as_float64(embeddings)
    if x.ndim != 2:
        raise ValueError(f"gaussian_statistics: expected embeddings [N, D], got shape {list(x.shape)}.")
    if x.shape[0] < 2:
        raise ValueError(f"gaussian_statistics: {x.shape[0]} embedding(s) give no covariance; give at least 2 rows.")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _covariance_root(product: np.ndarray) -> np.ndarray | None:
    """sqrtm(product), or None when it is not finite or does not square back to `product`."""
    try:
        with warnings.catch_warnings():  # singular products are handled by the caller's retry
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            root = scipy.linalg.sqrtm(product)
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not np.all(np.isfinite(root)):
        return None
    scale = max(np.linalg.norm(product), 1e-300)
    if np.linalg.norm(root @ root - product) / scale > ROOT_TOLERANCE:
        return None
    return root


def frechet_distance(mean_a: ArrayLike, cov_a: ArrayLike, mean_b: ArrayLike, cov_b: ArrayLike,
                     eps: float = 1e-6) -> float:
    """(mean [D], covariance [D, D]) of two Gaussians → their Fréchet distance (float ≥ 0 up to round-off).

    When Σa Σb is (near) singular and its root is inaccurate or not finite, `eps` · I is added to both
    covariances (growing tenfold, up to 5 times) and the root retried. A negligible imaginary part of the
    root is dropped; a large one raises ValueError.
    """
    mu_a, mu_b = _as_float64(mean_a), _as_float64(mean_b)
    sigma_a, sigma_b = _as_float64(cov_a), _as_float64(cov_b)
    if mu_a.ndim != 1 or mu_a.shape != mu_b.shape:
        raise ValueError(f"frechet_distance: means must be vectors [D] of one width, got {list(mu_a.shape)} "
                         f"and {list(mu_b.shape)}.")
    width = mu_a.shape[0]
    for name, sigma in (("cov_a", sigma_a), ("cov_b", sigma_b)):
        if sigma.shape != (width, width):
            raise ValueError(f"frechet_distance: {name} has shape {list(sigma.shape)}, expected [{width}, {width}].")
    for name, value in (("mean_a", mu_a), ("mean_b", mu_b), ("cov_a", sigma_a), ("cov_b", sigma_b)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"frechet_distance: {name} has NaN or inf entries; check the embeddings.")
    root = _covariance_root(sigma_a @ sigma_b)
    offset = eps
    for _ in range(5):
        if root is not None:
            break
        shift = offset * np.eye(width)
        root = _covariance_root((sigma_a + shift) @ (sigma_b + shift))
        offset *= 10
    if root is None:
        raise ValueError("frechet_distance: the square root of cov_a @ cov_b stays inaccurate or not finite "
                         f"even with {offset / 10:g}·I added to both covariances.")
    if np.iscomplexobj(root):
        largest = np.max(np.abs(root.imag.diagonal()), initial=0.0)
        if largest > IMAGINARY_TOLERANCE:
            raise ValueError(f"frechet_distance: sqrtm(cov_a @ cov_b) has an imaginary part of {largest:g} "
                             f"(> {IMAGINARY_TOLERANCE:g}) on its diagonal; the covariances are not valid.")
        root = root.real
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(root))


def frechet_distance_between(a: ArrayLike, b: ArrayLike) -> float:
    """Embeddings a [N, D], b [M, D] (N, M ≥ 2) → Fréchet distance of the Gaussians fitted to each."""
    a, b = _as_float64(a), _as_float64(b)
    shape_a, shape_b = a.shape, b.shape
    for name, shape in (("a", shape_a), ("b", shape_b)):
        if len(shape) != 2:
            raise ValueError(f"frechet_distance_between: set {name} has shape {list(shape)}; expected [N, D].")
        if shape[0] < 2:
            raise ValueError(f"frechet_distance_between: set {name} has {shape[0]} row(s); a covariance needs "
                             "at least 2 embeddings (more than D for a full-rank one).")
    if shape_a[1] != shape_b[1]:
        raise ValueError(f"frechet_distance_between: widths differ: a is [{shape_a[0]}, {shape_a[1]}], b is "
                         f"[{shape_b[0]}, {shape_b[1]}]; embed both sets with the same model.")
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))
