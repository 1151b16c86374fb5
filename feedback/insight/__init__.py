"""Insight: honest statistics over survey answers — scores, intervals, comparisons, KPI status."""
