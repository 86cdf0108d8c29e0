"""Presentation: pictures (networkx + matplotlib), tables and ipywidgets playgrounds.

Everything here reaches the cluster only through the Lab contract (lab.list, lab.trace, ...).
"""
