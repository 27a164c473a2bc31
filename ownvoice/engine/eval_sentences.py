"""Plain English sentences that quality checks synthesize (built-in voice tests, bench/stream.py).

One list, so that figures from different checks speak of the same sentences. Everyday words,
7-11 words each, no names or numbers: Whisper tiny.en transcribes real speech of them cleanly.
"""

ENGLISH = (
    "Please remember to water the plants while I am away.",
    "She opened the old wooden box and found a stack of letters.",
    "Our train was late, so we walked along the river.",
    "The library will close early tomorrow because of the holiday.",
    "A small dog barked at the mail carrier every morning.",
    "We should compare both plans before making a decision.",
    "The children built a tall tower out of colorful blocks.",
    "After dinner, everyone gathered around the fire to tell stories.",
    "Fresh bread from the bakery smells wonderful on a cold day.",
    "The meeting notes are saved in the shared folder.",
)
