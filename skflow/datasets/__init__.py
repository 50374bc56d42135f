"""Generated datasets for tests, examples and benchmarks."""

from ._generators import (
    make_gaussian_mixture,
    make_pinwheel,
    make_sphere,
    make_student_t_mixture,
)

__all__ = [
    "make_gaussian_mixture",
    "make_pinwheel",
    "make_sphere",
    "make_student_t_mixture",
]
