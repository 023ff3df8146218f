"""Caption text for a synthesised sound from its class and synthesis parameters."""

from collections.abc import Mapping

_TEMPLATES = {
    "Siren rising": "a siren rising {pace} from {f_start:.0f} Hz to {f_end:.0f} Hz, {times}",
    "Siren falling": "a siren falling {pace} from {f_start:.0f} Hz to {f_end:.0f} Hz, {times}",
    "Car horn": "a car horn honking {times} at {f0:.0f} Hz",
    "Dog bark": "a {size} dog barking {times}",
    "Bird chirp": "a bird chirping {times}, sweeping down from {f_start:.0f} Hz to {f_end:.0f} Hz",
    "Door knock": "a knocking on a door, {count} knocks at {bpm:.0f} BPM",
    "Clock tick": "a clock ticking at {bpm:.0f} BPM",
    "Engine idle": "an engine idling with a low rumble at about {f0:.0f} Hz",
    "Wind": "{tone} wind gusting in slow swells",
    "Alarm beep": "an alarm beeping at {bpm:.0f} BPM, {f0:.0f} Hz",
    "Cat meow": "a cat meowing {times}, rising to {f_peak:.0f} Hz and falling",
    "Laser zap": "a laser zapping {times}, falling fast from {f_start:.0f} Hz to {f_end:.0f} Hz",
    "Drum beat": "a drum beat of kicks and snares at {bpm:.0f} BPM",
    "Sanding": "{tone} sanding strokes at {bpm:.0f} BPM",
    "Whistle": "a person whistling a tone at {f0:.0f} Hz with vibrato",
    "Explosion": "an explosion booming and fading over {decay_seconds:.1f} seconds",
    "Water drip": "water dripping {times}, plinking at around {f0:.0f} Hz",
    "Telephone ring": "a telephone ringing {times}",
}


def _times(count: int) -> str:
    """'once', 'twice', or 'N times'."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _words(params: Mapping[str, float]) -> dict[str, str]:
    """Descriptive words derived from numeric parameters (only those present)."""
    words = {}
    if "count" in params:
        words["times"] = _times(int(params["count"]))
    if "sweep_seconds" in params:
        words["pace"] = "quickly" if params["sweep_seconds"] < 1.5 else "slowly"
    if "f0" in params:
        words["size"] = "big" if params["f0"] < 400 else "small"
    if "center_hz" in params:
        center = params["center_hz"]
        words["tone"] = "muffled" if center < 800 else "bright" if center > 2500 else "hissing"
    return words


def caption_for(class_name: str, params: Mapping[str, float]) -> str:
    """Caption like 'a siren rising quickly from 400 Hz to 1200 Hz, twice' for a sound's parameters."""
    return _TEMPLATES[class_name].format(**params, **_words(params))
