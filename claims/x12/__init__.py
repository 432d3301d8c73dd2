"""ASC X12 837P reading, writing and validation."""
