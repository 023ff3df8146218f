"""LAION-CLAP towers (HTSAT audio, transformer or GPT-2 text), their tokenizers and checkpoint loading."""
