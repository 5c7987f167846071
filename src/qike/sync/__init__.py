"""Whole-corp operations across the domains: full sync from WeCom, and reconcile."""
