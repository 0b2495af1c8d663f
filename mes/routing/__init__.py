"""Products, product families, versioned routings with flexible operations, setup matrices."""
