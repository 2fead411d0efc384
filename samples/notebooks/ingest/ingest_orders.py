# Databricks notebook source
# MAGIC %md
# MAGIC # Ingest orders (bronze)
# MAGIC
# MAGIC Reads the order files that the Data Factory pipeline `PL_Daily_Churn` landed as Parquet for one
# MAGIC run date and merges them into the bronze `orders` table. Run by the pipeline's `Ingest orders`
# MAGIC activity with the base parameters `environment` and `run_date`.

# COMMAND ----------

# MAGIC %run ../conf/env

# COMMAND ----------

dbutils.widgets.text("environment", ENVIRONMENT)
dbutils.widgets.text("run_date", "")
run_date = dbutils.widgets.get("run_date")
if not run_date:
    raise ValueError("run_date is required (yyyy-MM-dd), e.g. from the pipeline parameter runDate")
if dbutils.widgets.get("environment") != ENVIRONMENT:
    raise ValueError(
        f"this notebook was deployed for {ENVIRONMENT} but was called for {dbutils.widgets.get('environment')}"
    )

# COMMAND ----------

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from lib.quality import check_nulls, require_columns

source = f"abfss://{SETTINGS['containers']['bronze']}@{STORAGE_ACCOUNT}.dfs.core.windows.net/orders/{run_date}"
orders = (
    spark.read.parquet(source)
    .withColumn("order_ts", F.to_timestamp("order_ts"))
    .withColumn("amount", F.col("amount").cast("decimal(12,2)"))
    .withColumn("_ingested_at", F.current_timestamp())
    .withColumn("_run_date", F.lit(run_date).cast("date"))
)
require_columns(orders, "order_id", "customer_id", "order_ts", "amount")
ratios = check_nulls(orders, SETTINGS["quality"]["max_null_ratio"], "order_id", "customer_id", "amount")

# COMMAND ----------

target_name = table("bronze", SETTINGS["tables"]["orders"])
spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{CATALOG}`.`{SETTINGS['schemas']['bronze']}`")
if not spark.catalog.tableExists(target_name.replace("`", "")):
    orders.limit(0).write.format("delta").saveAsTable(target_name)

(
    DeltaTable.forName(spark, target_name)
    .alias("t")
    .merge(orders.alias("s"), "t.order_id = s.order_id")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute()
)

# COMMAND ----------

import json

rows = orders.count()
dbutils.notebook.exit(json.dumps({"metrics": {"rows_ingested": rows, "null_ratios": ratios}}))
