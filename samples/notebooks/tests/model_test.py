# Databricks notebook source
# MAGIC %md
# MAGIC # Model test
# MAGIC
# MAGIC Scores the current model on a held-out sample and exits with **metrics only**. The pipeline
# MAGIC decides with assertions, for example:
# MAGIC
# MAGIC ```yaml
# MAGIC assertions: |
# MAGIC   metrics.accuracy >= 0.9
# MAGIC   metrics.rows_scored > 1000
# MAGIC ```

# COMMAND ----------

dbutils.widgets.text("sample_fraction", "0.1")
dbutils.widgets.text("seed", "42")
sample_fraction = float(dbutils.widgets.get("sample_fraction"))
seed = int(dbutils.widgets.get("seed"))

# COMMAND ----------

import json

from pyspark.sql import functions as F

# Replace with your scoring: a toy "model" that predicts label = (x > 0.5) on generated data.
data = (
    spark.range(20000)
    .withColumn("x", F.rand(seed))
    .withColumn("label", (F.col("x") + (F.rand(seed + 1) - 0.5) * 0.1 > 0.5).cast("int"))
    .sample(fraction=sample_fraction, seed=seed)
)
scored = data.withColumn("prediction", (F.col("x") > 0.5).cast("int"))
stats = scored.agg(
    F.count("*").alias("rows"),
    F.avg((F.col("prediction") == F.col("label")).cast("double")).alias("accuracy"),
).first()

# COMMAND ----------

dbutils.notebook.exit(
    json.dumps(
        {
            "metrics": {
                "accuracy": round(stats["accuracy"] or 0.0, 4),
                "rows_scored": stats["rows"],
                "sample_fraction": sample_fraction,
            }
        }
    )
)
