"""Quality: inspections, nonconformities and scrap reasons (built on the shop-floor reports)."""
