"""Side-by-side measurements: course_lib against raw clients and peer libraries, in one run, as ratios."""
