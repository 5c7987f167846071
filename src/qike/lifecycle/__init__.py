"""Customer lifecycle: stages with history, the board, stale-stage reminders, the funnel, follow-ups."""
