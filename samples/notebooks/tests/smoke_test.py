# Databricks notebook source
# MAGIC %md
# MAGIC # Smoke tests
# MAGIC
# MAGIC Run by `DatabricksRunNotebook@1` after a deploy. Each check below becomes a test case in the
# MAGIC pipeline's **Tests** tab. The notebook never fails on a failed check: it reports every check
# MAGIC through its exit value (see `docs/exit-value-convention.md`) and the task fails the stage.
# MAGIC
# MAGIC Widgets (pipeline `parameters`): `environment`, `catalog`, `schema`, `table`, `min_rows`.

# COMMAND ----------

dbutils.widgets.text("environment", "dev")
dbutils.widgets.text("catalog", "main")
dbutils.widgets.text("schema", "default")
dbutils.widgets.text("table", "")
dbutils.widgets.text("min_rows", "1")

environment = dbutils.widgets.get("environment")
catalog = dbutils.widgets.get("catalog")
schema = dbutils.widgets.get("schema")
table = dbutils.widgets.get("table")
min_rows = int(dbutils.widgets.get("min_rows") or "1")

# COMMAND ----------

import json
import time
import traceback

tests = []
metrics = {"environment": environment}


class Skip(Exception):
    """Raise to report a check as skipped, with the reason as its message."""


def check(name):
    """Runs the decorated function at once and records it as one test case."""

    def run(fn):
        started = time.time()
        entry = {"name": name}
        try:
            fn()
            entry["status"] = "passed"
        except Skip as e:
            entry["status"] = "skipped"
            entry["message"] = str(e)
        except AssertionError as e:
            entry["status"] = "failed"
            entry["message"] = str(e) or "assertion failed"
            entry["details"] = traceback.format_exc()
        except Exception as e:  # an unexpected error is reported, not raised
            entry["status"] = "error"
            entry["message"] = f"{type(e).__name__}: {e}"
            entry["details"] = traceback.format_exc()
        entry["duration"] = round(time.time() - started, 3)
        tests.append(entry)
        return fn

    return run

# COMMAND ----------

@check("spark session answers a query")
def _():
    assert spark.range(100).count() == 100, "spark.range(100) did not return 100 rows"


@check("catalog and schema exist")
def _():
    schemas = [r[0] for r in spark.sql(f"SHOW SCHEMAS IN `{catalog}`").collect()]
    assert schema in schemas, f"schema {catalog}.{schema} not found (found: {', '.join(schemas[:10])})"


@check("target table has enough rows")
def _():
    if not table:
        raise Skip("no table widget given")
    full_name = f"`{catalog}`.`{schema}`.`{table}`"
    rows = spark.table(full_name).count()
    metrics["row_count"] = rows
    assert rows >= min_rows, f"{full_name} has {rows} rows, expected at least {min_rows}"

# COMMAND ----------

passed = sum(1 for t in tests if t["status"] == "passed")
metrics["checks_passed_ratio"] = round(passed / len(tests), 3) if tests else 1.0

# The exit value is what the pipeline reads. Keep it well under 5 MB (Databricks truncates there).
dbutils.notebook.exit(json.dumps({"tests": tests, "metrics": metrics}))
