"""Mass messages to customers (企业群发): compose, plan under WeCom's limits, confirmation tracking, results."""
