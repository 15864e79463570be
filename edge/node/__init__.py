"""What every edge node shares: camera workers, tickers, evidence, its HTTP endpoint, health."""
