"""Course machinery: exercise checks, instructor grading, release of exercise notebooks."""
