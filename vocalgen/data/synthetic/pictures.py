"""Procedural pictures for the synthetic scenes: a background scene (beach, city, forest, snowy field,
night sky) and, drawn over it, a visual element that follows a sound's class and parameters.

Everything is drawn with PIL.ImageDraw on a `size` × `size` RGB canvas from one numpy generator, so a
picture depends only on (scene, sound class, sound parameters, generator state, size). Rows from the
horizon down are ground; rows above it are sky.
"""

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

Colour = tuple[int, int, int]
Params = dict[str, float]
ScenePainter = Callable[[ImageDraw.ImageDraw, np.random.Generator, int, int], None]
ElementPainter = Callable[[Image.Image, np.random.Generator, int, Params], Image.Image]

HORIZON = (0.45, 0.6)  # range of the horizon row, as fractions of the height
BIRD_DARK: Colour = (20, 20, 20)  # birds on a light sky
BIRD_PALE: Colour = (225, 225, 235)  # birds on a dark sky
BIRD_CELLS = (4, 2)  # columns × rows of sky cells holding one bird each at most (Bird chirp counts are 3-8)
RAIN: Colour = (185, 200, 220)  # rain streaks
CAR_COLOURS: tuple[Colour, ...] = ((200, 40, 40), (235, 190, 40), (235, 235, 235), (40, 90, 200), (40, 150, 80))


# ---------------------------------------------------------------- drawing helpers


def _shade(rng: np.random.Generator, colour: Colour, spread: int = 12) -> Colour:
    """`colour` brightened or darkened by one random offset in [-spread, spread] (channel differences kept)."""
    offset = int(rng.integers(-spread, spread + 1))
    return tuple(int(np.clip(channel + offset, 0, 255)) for channel in colour)


def _gradient(draw: ImageDraw.ImageDraw, top: Colour, bottom: Colour, rows: int, width: int) -> None:
    """Rows 0 … rows - 1 blended linearly from `top` to `bottom`."""
    for y in range(rows):
        t = y / max(rows - 1, 1)
        draw.line([(0, y), (width - 1, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))


def _sky_and_ground(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int,
                    sky: tuple[Colour, Colour], ground: Colour) -> None:
    """A sky gradient (top, bottom colours) above `horizon` and a flat ground below, each shade varied."""
    _gradient(draw, _shade(rng, sky[0]), _shade(rng, sky[1]), horizon, size)
    draw.rectangle([0, horizon, size - 1, size - 1], fill=_shade(rng, ground))


def _disc(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float, colour: Colour) -> None:
    """A filled circle centred at (x, y)."""
    draw.ellipse([round(x - radius), round(y - radius), round(x + radius), round(y + radius)], fill=colour)


# ---------------------------------------------------------------- scenes


def _beach(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int) -> None:
    """Blue sky with a sun, a band of sea with a foam line, sand below."""
    _sky_and_ground(draw, rng, size, horizon, ((100, 170, 230), (180, 215, 240)), (225, 200, 140))
    shore = horizon + round(size * rng.uniform(0.1, 0.2))
    draw.rectangle([0, horizon, size - 1, shore], fill=_shade(rng, (25, 95, 165)))
    draw.line([(0, shore), (size - 1, shore)], fill=(235, 240, 240))
    _disc(draw, rng.uniform(0.1, 0.9) * size, rng.uniform(0.08, 0.2) * size, 0.06 * size, _shade(rng, (250, 225, 110)))


def _city(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int) -> None:
    """Hazy sky, a skyline of grey towers with lit and dark windows, an asphalt street with lane dashes."""
    _sky_and_ground(draw, rng, size, horizon, ((150, 165, 185), (205, 208, 215)), (70, 70, 78))
    edges = np.linspace(0, size, int(rng.integers(4, 8)) + 1)
    step = max(3, size // 12)
    for left, right in zip(edges[:-1], edges[1:]):
        inset = rng.uniform(0, 0.15, 2) * (right - left)
        x0, x1, top = round(left + inset[0]), round(right - inset[1]), round(horizon - size * rng.uniform(0.12, 0.4))
        grey = int(rng.integers(90, 141))
        draw.rectangle([x0, top, x1, horizon], fill=(grey, grey, grey))
        for y in range(top + step // 2, horizon - step // 2, step):
            for x in range(x0 + 1, x1 - step // 3, step):
                lit = rng.random() < 0.6
                draw.rectangle([x, y, x + step // 3, y + step // 3], fill=(240, 210, 110) if lit else (60, 60, 70))
    street = (horizon + size) // 2
    for x in range(0, size, max(4, size // 8)):
        draw.line([(x, street), (x + max(2, size // 16), street)], fill=(230, 230, 210))


def _forest(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int) -> None:
    """Blue sky over green ground with dark-green conifers (triangles on brown trunks), far ones first."""
    _sky_and_ground(draw, rng, size, horizon, ((130, 190, 230), (190, 220, 240)), (70, 140, 55))
    count = int(rng.integers(6, 11))
    bases = np.sort(horizon + rng.uniform(0.0, 0.15, count) * size)
    for base, x, height in zip(bases, rng.uniform(0, size, count), rng.uniform(0.2, 0.4, count) * size):
        trunk = max(1, size // 64)
        draw.rectangle([round(x) - trunk, round(base - 0.2 * height), round(x) + trunk, round(base)], fill=(90, 60, 30))
        crown = [(x - 0.3 * height, base - 0.15 * height), (x + 0.3 * height, base - 0.15 * height), (x, base - height)]
        draw.polygon([(round(px), round(py)) for px, py in crown], fill=_shade(rng, (25, 85, 35), 10))


def _snowy_field(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int) -> None:
    """Pale sky, blue-grey hills on the horizon, white ground with faint drifts."""
    _sky_and_ground(draw, rng, size, horizon, ((200, 212, 228), (232, 236, 243)), (244, 246, 250))
    ridge = [(round(x), round(horizon - rng.uniform(0.03, 0.12) * size)) for x in np.linspace(0, size - 1, 6)]
    draw.polygon([(0, horizon), *ridge, (size - 1, horizon)], fill=_shade(rng, (180, 190, 205)))
    for y in rng.uniform(horizon + 0.1 * size, size - 1, 3):
        x = rng.uniform(0, 0.6) * size
        draw.line([(round(x), round(y)), (round(x + 0.4 * size), round(y))], fill=(222, 228, 238))


def _night_sky(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: int) -> None:
    """Dark-blue sky with white stars and a pale moon over dark ground."""
    _sky_and_ground(draw, rng, size, horizon, ((6, 10, 35), (25, 35, 80)), (18, 22, 32))
    stars = round(size * rng.uniform(0.5, 1.0))
    for x, y in zip(rng.integers(0, size, stars), rng.integers(0, horizon, stars)):
        draw.point((int(x), int(y)), fill=(255, 255, 245))
    _disc(draw, rng.uniform(0.15, 0.85) * size, rng.uniform(0.1, 0.25) * size, 0.07 * size, (240, 235, 200))


SCENES: dict[str, ScenePainter] = {
    "beach": _beach,
    "city": _city,
    "forest": _forest,
    "snowy field": _snowy_field,
    "night sky": _night_sky,
}


# ---------------------------------------------------------------- elements (one per sound class)


def _storm(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Explosion → a storm flash: a yellow-white veil, stronger the longer the decay (0.4 s → 0.2, 1.2 s →
    0.7 opacity), and a jagged lightning bolt from the top down to the horizon."""
    size = image.width
    strength = 0.2 + 0.5 * float(np.clip((params["decay_seconds"] - 0.4) / 0.8, 0, 1))
    image = Image.blend(image, Image.new("RGB", image.size, (255, 250, 215)), strength)
    x, bolt = rng.uniform(0.25, 0.75) * size, []
    for y in np.linspace(0, horizon, 7):
        bolt.append((round(x), round(y)))
        x += rng.uniform(-0.1, 0.1) * size
    ImageDraw.Draw(image).line(bolt, fill=(255, 235, 60), width=max(1, size // 32))
    return image


def _rain(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Water drip → rain: a grey veil and 6 slanted streaks per drip over the whole picture."""
    size = image.width
    image = Image.blend(image, Image.new("RGB", image.size, (95, 100, 110)), 0.3)
    draw, length = ImageDraw.Draw(image), 0.1 * size
    for _ in range(6 * int(params["count"])):
        x, y = rng.uniform(0, size), rng.uniform(-length, size)
        draw.line([(round(x), round(y)), (round(x - 0.3 * length), round(y + length))], fill=RAIN)
    return image


def _birds(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Bird chirp → one "v" bird per chirp, each in its own cell of the sky (BIRD_CELLS), dark (BIRD_DARK)
    on a light sky and pale (BIRD_PALE) on a dark one; birds never touch, so they count as blobs."""
    size = image.width
    columns, rows = BIRD_CELLS
    top, bottom = 0.05 * size, horizon - 0.1 * size
    cell_width, cell_height = size / columns, (bottom - top) / rows
    colour = BIRD_PALE if np.asarray(image)[0].mean() < 100 else BIRD_DARK  # judged by the top row of the sky
    half = max(2, size // 16)
    draw = ImageDraw.Draw(image)
    for cell in rng.choice(columns * rows, int(params["count"]), replace=False):
        x = round((cell % columns + 0.5 + rng.uniform(-0.1, 0.1)) * cell_width)
        y = round(top + (cell // columns + 0.5) * cell_height)
        draw.line([(x - half, y - half // 2), (x, y), (x + half, y - half // 2)], fill=colour)
    return image


def _light_bar(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Siren → a red-blue light bar on the ground: one red and one blue light per sweep, their glow wider
    the wider the siren's pitch range (high / low frequency)."""
    size = image.width
    lights, radius = 2 * int(params["count"]), max(2, size // 20)
    span = max(params["f_start"], params["f_end"]) / min(params["f_start"], params["f_end"])
    glow = radius * (0.5 + span / 2)
    x0 = rng.uniform(0.05, 0.95) * (size - 2 * radius * lights)
    y = horizon + rng.uniform(0.25, 0.5) * (size - horizon)
    draw = ImageDraw.Draw(image)
    draw.rectangle([round(x0), round(y), round(x0 + 2 * radius * lights), round(y + radius)], fill=(30, 30, 40))
    centres = [x0 + radius * (2 * i + 1) for i in range(lights)]
    for i, x in enumerate(centres):
        _disc(draw, x, y, glow, (250, 160, 160) if i % 2 == 0 else (160, 180, 250))
    for i, x in enumerate(centres):
        _disc(draw, x, y, 0.8 * radius, (230, 30, 40) if i % 2 == 0 else (40, 70, 235))
    return image


def _dog(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Dog bark → a dark-brown dog silhouette standing on the ground, bigger for a lower bark (f0 250 Hz →
    0.4 of the width long, 600 Hz → 0.18)."""
    size = image.width
    length = size * float(np.interp(params["f0"], [250, 600], [0.4, 0.18]))
    feet = horizon + rng.uniform(0.55, 0.85) * (size - horizon)
    x = rng.uniform(0.05 * size, 0.95 * size - length)
    top = feet - 0.65 * length  # the back
    colour = _shade(rng, (70, 45, 25), 10)
    draw = ImageDraw.Draw(image)
    draw.ellipse([round(x), round(top), round(x + 0.78 * length), round(top + 0.38 * length)], fill=colour)
    _disc(draw, x + 0.82 * length, top - 0.02 * length, 0.16 * length, colour)
    draw.rectangle([round(x + 0.85 * length), round(top - 0.02 * length), round(x + length),
                    round(top + 0.1 * length)], fill=colour)
    for leg in (0.1, 0.6):
        draw.rectangle([round(x + leg * length), round(top + 0.25 * length), round(x + (leg + 0.09) * length),
                        round(feet)], fill=colour)
    tail = [(x + 0.03 * length, top + 0.08 * length), (x - 0.12 * length, top - 0.15 * length)]
    draw.line([(round(px), round(py)) for px, py in tail], fill=colour, width=max(1, round(length / 12)))
    return image


def _cars(image: Image.Image, rng: np.random.Generator, horizon: int, params: Params) -> Image.Image:
    """Car horn → one car per honk, side by side on the ground (body, cabin with a window, two wheels)."""
    size = image.width
    length, gap = 0.26 * size, 0.04 * size
    x = rng.uniform(0.02 * size, size - int(params["count"]) * (length + gap))
    ground = horizon + rng.uniform(0.5, 0.8) * (size - horizon)
    draw = ImageDraw.Draw(image)
    for _ in range(int(params["count"])):
        body = ground - 0.3 * length
        cabin = [(x + 0.2 * length, body), (x + 0.3 * length, body - 0.2 * length),
                 (x + 0.7 * length, body - 0.2 * length), (x + 0.8 * length, body)]
        colour = CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]
        draw.polygon([(round(px), round(py)) for px, py in cabin], fill=colour)
        draw.rectangle([round(x + 0.33 * length), round(body - 0.15 * length), round(x + 0.67 * length),
                        round(body - 0.02 * length)], fill=(170, 210, 235))
        draw.rectangle([round(x), round(body), round(x + length), round(ground - 0.08 * length)], fill=colour)
        for wheel in (0.22, 0.78):
            _disc(draw, x + wheel * length, ground - 0.08 * length, 0.09 * length, (25, 25, 25))
        x += length + gap
    return image


ELEMENTS: dict[str, ElementPainter] = {
    "Explosion": _storm,
    "Water drip": _rain,
    "Bird chirp": _birds,
    "Siren rising": _light_bar,
    "Dog bark": _dog,
    "Car horn": _cars,
}


def draw_scene(scene: str, rng: np.random.Generator, size: int) -> tuple[Image.Image, int]:
    """The background of `scene` (a key of SCENES) as an RGB `size` × `size` image, and its horizon row."""
    horizon = round(size * rng.uniform(*HORIZON))
    image = Image.new("RGB", (size, size))
    SCENES[scene](ImageDraw.Draw(image), rng, size, horizon)
    return image, horizon


def picture(scene: str, sound_class: str, params: Params, rng: np.random.Generator, size: int) -> Image.Image:
    """`scene` (drawn first) with the element of `sound_class` (a key of ELEMENTS) drawn over it from the
    sound's `params`; an RGB `size` × `size` image."""
    image, horizon = draw_scene(scene, rng, size)
    return ELEMENTS[sound_class](image, rng, horizon, params)
