"""Instruction tuning of the emotional LM: data mixture, batches, inseparability, ablations."""
