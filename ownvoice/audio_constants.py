"""Audio constants shared by the engine, the cloning pipeline and the cache (units in comments)."""

SAMPLE_RATE = 24000  # Hz, Kokoro-82M's output rate
HOP = 600  # samples, 25 ms: one Kokoro duration frame (the decoder upsamples 300x after a 2x step)
N_FFT = 2048  # samples, analysis window for log-mel features
N_MELS = 80  # mel bands
