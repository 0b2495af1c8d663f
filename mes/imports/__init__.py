"""Importing routings and work orders from CSV and Excel files: reading the file, checking every
row, writing all of it in one transaction or nothing, and the templates to download.

Sits above the routing and order packages and writes through their services; only the app
factory and the API collector import it."""
