"""`python -m feedback.sentiment.build_native [build|clean|status]`: see feedback/sentiment/native.py.

A module of its own, since the package imports `native` before `-m` could run it."""

import sys

from feedback.sentiment.native import main

sys.exit(main(sys.argv[1:]))
