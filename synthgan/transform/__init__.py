"""DataFrame <-> float32 arrays: one module per column family, table.py lays the spans out."""

from synthgan.transform.layout import Activation, Layout, Span, SpanRole
from synthgan.transform.table import TableTransformer

__all__ = ["Activation", "Layout", "Span", "SpanRole", "TableTransformer"]
