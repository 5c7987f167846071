"""Customer moments (客户朋友圈): moment tasks, publish status per staff member, comments and likes."""
