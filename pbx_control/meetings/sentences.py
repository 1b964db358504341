"""What a caller hears on the meeting dial-in, in Swedish and English."""

from __future__ import annotations

from typing import Literal

Say = Literal["ask", "wrong", "joined", "ended", "deleted", "goodbye"]

SENTENCES: dict[str, dict[Say, str]] = {
    "sv": {
        "ask": "Ange PIN-kod följt av fyrkant.",
        "wrong": "Fel kod.",
        "joined": "Du är nu med i mötet.",
        "ended": "Mötet har avslutats.",
        "deleted": "Mötet finns inte längre.",
        "goodbye": "Fel kod för många gånger. Hej då.",
    },
    "en": {
        "ask": "Enter the PIN followed by the hash key.",
        "wrong": "Wrong code.",
        "joined": "You are now in the meeting.",
        "ended": "The meeting has ended.",
        "deleted": "The meeting no longer exists.",
        "goodbye": "Wrong code too many times. Goodbye.",
    },
}
