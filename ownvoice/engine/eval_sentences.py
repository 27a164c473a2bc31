"""Plain English sentences that quality checks synthesize (built-in voice tests, bench/stream.py).

One list, so that figures from different checks speak of the same sentences. Everyday words,
9-12 words each, no names or numbers: Whisper tiny.en transcribes real speech of them cleanly.
``ENGLISH_TUNING`` is a second list of the same kind for choices made while building (which
training run becomes a built-in voice): tests never use it, so their figures stay out of sample.
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

ENGLISH_TUNING = (
    "The kettle whistled while we searched the drawer for clean spoons.",
    "He folded the map carefully and put it back in his coat.",
    "Rain kept falling all afternoon, so the game was cancelled.",
    "Could you bring a warm sweater in case the evening turns cold?",
    "The garden looks brighter now that the roses are in bloom.",
    "I left my umbrella on the bus again this morning.",
    "Her grandmother taught her how to bake bread without a recipe.",
    "The quiet street woke up slowly as the shops opened.",
    "We painted the fence white and let it dry overnight.",
    "Nobody noticed the cat sleeping on top of the bookshelf.",
    "Turn left at the bridge and follow the path up the hill.",
    "The soup needs a little more salt and some fresh pepper.",
    "They laughed so hard that the waiter came over to ask.",
    "My phone battery died just before the important call.",
    "The old clock in the hall stopped working last winter.",
    "A gentle breeze carried the smell of the sea into town.",
    "Please write your answers clearly on the back of the page.",
    "The museum has a new room full of ancient pottery.",
    "We waited under the tree until the storm had passed.",
    "His handwriting was so small that I needed my glasses.",
)
