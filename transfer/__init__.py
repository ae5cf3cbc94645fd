"""Bulk data in and out: CSV import (importer.py) and the demo data generator (demo.py)."""

from transfer.importer import ImportReport, import_folder

__all__ = ["ImportReport", "import_folder"]
