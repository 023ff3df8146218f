"""GAN discriminators on waveforms [B, 1, N]: multi-period, multi-scale, multi-scale STFT, and their union."""
