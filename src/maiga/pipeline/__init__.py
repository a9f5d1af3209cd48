"""`maiga run`: the stages of the pipeline, their config and their resumable execution."""
