"""Packaging beyond what pyproject.toml can say: the top-level templates/ and migrations/ folders
of the repository are installed inside the mes package (mes/templates, mes/migrations), so a
wheel or a non-editable install serves pages and migrates its database."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["mes", "mes.*"]) + ["mes.templates", "mes.migrations", "mes.migrations.versions"],
    package_dir={"mes.templates": "templates", "mes.migrations": "migrations"},
)
