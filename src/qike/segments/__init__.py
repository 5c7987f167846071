"""Segments: saved audiences of customers (tags, channel, staff, dates, status, stage) with live counts."""
