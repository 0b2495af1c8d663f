"""Owner reports: the daily output sheet (PDF) and dashboard figures."""
