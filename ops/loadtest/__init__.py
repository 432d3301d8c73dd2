"""`make loadtest`: locust's users against the platform under gunicorn (locustfile.py), and the report (report.py)."""
