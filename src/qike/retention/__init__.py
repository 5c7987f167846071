"""Retention: lost customers (churn) and the shared pool (公海)."""
