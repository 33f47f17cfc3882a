"""`python -m benchmarks` (what `make bench` runs inside `vitrine embedded`)."""

from benchmarks.run import main

raise SystemExit(main())
