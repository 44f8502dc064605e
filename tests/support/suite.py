"""Which tests need the servers: all but tests/pipeline (the pipeline uses neither database)."""

from pathlib import Path

PIPELINE_TESTS = Path(__file__).resolve().parents[1] / "pipeline"


def is_pipeline_test(path) -> bool:
    """Whether a test file or folder lies under tests/pipeline."""
    return Path(path).resolve().is_relative_to(PIPELINE_TESTS)
