"""Evaluation of the emotional network against human judgements."""
