"""The emotion schema: which emotions exist, their ranges and meanings (a contract between stages)."""

from maiga.schema.emotion_schema import Dimension, EmotionSchema, load_schema

__all__ = ["Dimension", "EmotionSchema", "load_schema"]
