"""The notebooks' interactive widgets: one module per widget.

Each widget keeps its state on a plain Python object and builds its ipywidgets view from that state, so the
behaviour is unit-testable without a browser and a notebook cell can drive it from code exactly like a click.
Callbacks write with ``Output.append_stdout`` / ``append_display_data``, never ``print`` inside ``with out:``.
"""
